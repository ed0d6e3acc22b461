-- The last successful delivery to each of the given addresses (lower-cased), in seconds since 1970.
with deliveries as (
    select
        lower(email) as address,
        occurred_at
    from email_events
    where lower(email) in :addresses
      and event_type = 'delivery'
),

final as (
    select
        address,
        (julianday(max(occurred_at)) - 2440587.5) * 86400.0 as last_epoch
    from deliveries
    group by address
)

select * from final
