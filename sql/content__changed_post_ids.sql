-- Posts new or edited since the scan watermark, up to the snapshot the scan started from, and posts
-- given an attachment in that time.
with changed_posts as (
    select id
    from posts
    where
        (updated_at > :after_at or (updated_at = :after_at and id > :after_id))
        and (updated_at < :through_at or (updated_at = :through_at and id <= :through_id))
),

new_attachments as (
    select post_id as id
    from post_attachments
    where uploaded_at > :after_at and uploaded_at <= :through_at
),

final as (
    select id from changed_posts
    union
    select id from new_attachments
)

select * from final
order by id
