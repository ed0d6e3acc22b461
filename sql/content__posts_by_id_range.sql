-- The next chunk of posts after a post id, up to the last id of the range: the texts a scan reads.
with posts_in_range as (
    select
        id,
        title,
        body
    from posts
    where id > :after_id and id <= :last_id
),

final as (
    select * from posts_in_range
)

select * from final
order by id
limit :chunk_rows
