-- For each erasure request in a plan: what happened to its item, and the request's status now.
with items as (
    select
        subject_row_id as request_id,
        status as item_status,
        deferred_reason
    from plan_items
    where plan_id = :plan_id
      and subject_table = 'request_register'
),

requests as (
    select
        id,
        status as request_status
    from request_register
),

final as (
    select
        items.request_id,
        items.item_status,
        items.deferred_reason,
        requests.request_status
    from items
    left join requests on requests.id = items.request_id
)

select * from final
order by request_id
