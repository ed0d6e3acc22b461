-- How many accounts are marked undeliverable now.
with marked as (
    select count(*) as accounts
    from accounts
    where email_status = 'undeliverable'
),

final as (
    select * from marked
)

select * from final
