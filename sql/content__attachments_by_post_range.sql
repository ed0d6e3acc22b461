-- The file names of the attachments of the posts in an id range (scanned as metadata).
with attachments as (
    select
        id,
        post_id,
        file_name
    from post_attachments
    where post_id >= :first_id and post_id <= :last_id
),

final as (
    select * from attachments
)

select * from final
order by post_id, id
