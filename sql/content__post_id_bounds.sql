-- The range of post ids (to split a full scan between workers). Each bound in its own subquery: SQLite
-- answers a lone min() or max() from the primary key, but scans the whole table for both in one select.
with bounds as (
    select
        (select min(id) from posts) as first_id,
        (select max(id) from posts) as last_id
),

final as (
    select * from bounds
)

select * from final
