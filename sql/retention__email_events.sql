-- retention rule email_events: the email provider's events that occurred before the cutoff.
with events as (
    select id, occurred_at
    from email_events
),

final as (
    select
        id as row_id,
        cast(null as bigint) as account_id,
        occurred_at as anchor
    from events
    where occurred_at < :cutoff
)

select * from final
