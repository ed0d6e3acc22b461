-- The newest post by (updated_at, id): the snapshot a scan runs up to, and the next watermark.
with newest as (
    select max(updated_at) as updated_at
    from posts
),

final as (
    select
        newest.updated_at,
        max(posts.id) as id
    from newest
    inner join posts on posts.updated_at = newest.updated_at
    group by newest.updated_at
)

select * from final
