-- The next window of a plan's pending items after a given item id, as groups of one table and action
-- with their first and last item ids (check and apply read a plan of millions of items window by window;
-- the items of one group in the window are exactly its pending items between those ids).
with window_items as (
    select
        id,
        subject_table,
        action
    from plan_items
    where plan_id = :plan_id
      and status = 'pending'
      and id > :after
    order by id
    limit :window
),

final as (
    select
        subject_table,
        action,
        min(id) as first_id,
        max(id) as last_id,
        count(*) as items
    from window_items
    group by subject_table, action
)

select * from final
order by first_id
