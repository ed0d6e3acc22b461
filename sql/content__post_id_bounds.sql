-- The range of post ids (to split a full scan between workers).
with bounds as (
    select
        min(id) as first_id,
        max(id) as last_id
    from posts
),

final as (
    select * from bounds
)

select * from final
