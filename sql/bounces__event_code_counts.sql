-- Staged events counted per event type and status codes (classified in Python, one row per code).
with events as (
    select
        event_type,
        smtp_status,
        enhanced_status
    from email_events
),

final as (
    select
        event_type,
        smtp_status,
        enhanced_status,
        count(*) as events
    from events
    group by event_type, smtp_status, enhanced_status
)

select * from final
