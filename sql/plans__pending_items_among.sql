-- Those of the given items of a plan that are still pending (a batch claims its items with this).
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
      and id in :item_ids
),

final as (
    select * from items
)

select * from final
order by id
