-- Erasure requests already pending in an open erasure-request plan (not to be planned twice).
with items as (
    select plan_items.subject_row_id
    from plan_items
    inner join plans on plans.id = plan_items.plan_id
    where plans.kind = 'erasure_request'
      and plans.status in ('draft', 'ready', 'awaiting_approval', 'approved', 'applying')
      and plan_items.subject_table = 'request_register'
      and plan_items.status = 'pending'
),

final as (
    select distinct subject_row_id from items
)

select * from final
