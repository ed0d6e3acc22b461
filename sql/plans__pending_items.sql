-- The pending items of a plan, in the order they were planned.
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
),

final as (
    select * from items
)

select * from final
order by id
