-- The next pending items of a plan after a given item id, in the order they were planned (a window of
-- the plan: check and apply read a plan of millions of items window by window).
with items as (
    select
        id,
        account_id,
        subject_table,
        subject_row_id,
        action,
        rule
    from plan_items
    where plan_id = :plan_id
      and status = 'pending'
      and id > :after
),

final as (
    select * from items
)

select * from final
order by id
limit :window
