-- The file names of the attachments of named posts (scanned as metadata).
with attachments as (
    select
        id,
        post_id,
        file_name
    from post_attachments
    where post_id in :post_ids
),

final as (
    select * from attachments
)

select * from final
order by post_id, id
