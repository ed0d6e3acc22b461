-- The pending items of one table and action of a plan with ids from first_id to last_id, in order.
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
      and subject_table = :subject_table
      and action = :action
      and id between :first_id and :last_id
),

final as (
    select * from items
)

select * from final
order by id
