-- Subject access requests still open: each blocks erasing its subject until it is answered.
with requests as (
    select
        id,
        account_id,
        email,
        subject_hash
    from request_register
    where kind = 'access'
      and status not in ('completed', 'rejected')
),

final as (
    select * from requests
)

select * from final
order by id
