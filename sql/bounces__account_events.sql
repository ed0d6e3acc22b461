-- Every staged event about an account's current address (matched trimmed and case-insensitively).
-- The diagnostic is read only where the enhanced status is missing (it may carry the code).
with events as (
    select
        lower(trim(email)) as address,
        event_type,
        smtp_status,
        enhanced_status,
        case when enhanced_status is null then diagnostic end as diagnostic,
        occurred_at
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
        events.event_type,
        events.smtp_status,
        events.enhanced_status,
        events.diagnostic,
        events.occurred_at
    from events
    inner join account_addresses on account_addresses.address = events.address
)

select * from final
