-- Named posts (a chunk of an incremental scan or a recheck): the texts a scan reads.
with named_posts as (
    select
        id,
        title,
        body
    from posts
    where id in :post_ids
),

final as (
    select * from named_posts
)

select * from final
order by id
