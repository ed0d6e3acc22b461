-- Open data-subject requests, the nearest deadline first (overdue ones come first by construction).
with requests as (
    select
        id,
        kind,
        status,
        account_id,
        received_on,
        identity_verified_on,
        due_on,
        extended,
        deferred_reason
    from request_register
    where status not in ('completed', 'rejected')
),

final as (
    select * from requests
)

select * from final
order by due_on, id
