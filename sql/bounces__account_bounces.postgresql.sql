-- Every staged bounce about an account's current address (matched trimmed and case-insensitively),
-- compact for a million rows: the reply and enhanced codes as one `codes` string (smtp|enhanced), the
-- time as seconds since 1970 (UTC). The diagnostic is read only where the enhanced status is missing.
-- Deliveries are read separately, and only for the addresses that matter (sql/bounces__last_deliveries).
with bounces as (
    select
        lower(trim(email)) as address,
        coalesce(smtp_status, '') || '|' || coalesce(enhanced_status, '') as codes,
        case when enhanced_status is null then diagnostic end as diagnostic,
        extract(epoch from occurred_at) as occurred_epoch
    from email_events
    where event_type = 'bounce'
),

account_addresses as (
    select
        id as account_id,
        lower(email) as address
    from accounts
),

final as (
    select
        account_addresses.account_id,
        account_addresses.address,
        bounces.codes,
        bounces.diagnostic,
        bounces.occurred_epoch
    from bounces
    inner join account_addresses on account_addresses.address = bounces.address
)

select * from final
