-- The export files ingested, newest first.
with files as (
    select
        id,
        file_name,
        format,
        event_count,
        quarantined_count,
        ingested_at
    from bounce_files
),

final as (
    select * from files
)

select * from final
order by id desc
