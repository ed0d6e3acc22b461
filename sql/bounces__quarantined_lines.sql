-- Quarantined export lines, newest file first: where they are and which rules they failed.
with lines as (
    select
        bounce_files.id as file_id,
        bounce_files.file_name,
        bounce_quarantine.source_line,
        bounce_quarantine.reasons
    from bounce_quarantine
    inner join bounce_files on bounce_files.id = bounce_quarantine.file_id
),

final as (
    select * from lines
)

select * from final
order by file_id desc, source_line
limit :limit
