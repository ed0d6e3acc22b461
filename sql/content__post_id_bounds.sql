-- The range of post ids and how many posts there are (to split a full scan between workers).
with bounds as (
    select
        min(id) as first_id,
        max(id) as last_id,
        count(*) as posts
    from posts
),

final as (
    select * from bounds
)

select * from final
