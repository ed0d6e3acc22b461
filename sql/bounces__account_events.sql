-- Every staged event about an account's current address (matched trimmed and case-insensitively), in
-- a compact form for a million rows: the event and its codes as one `kind` string
-- (event|smtp|enhanced), the time as seconds since 1970 (UTC). The diagnostic is read only where the
-- enhanced status is missing (it may carry the code).
with events as (
    select
        lower(trim(email)) as address,
        event_type || '|' || coalesce(smtp_status, '') || '|' || coalesce(enhanced_status, '') as kind,
        case when enhanced_status is null and event_type = 'bounce' then diagnostic end as diagnostic,
        (julianday(occurred_at) - 2440587.5) * 86400.0 as occurred_epoch
    from email_events
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
        events.kind,
        events.diagnostic,
        events.occurred_epoch
    from events
    inner join account_addresses on account_addresses.address = events.address
)

select * from final
