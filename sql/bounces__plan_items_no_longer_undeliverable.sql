-- Pending items of a removal plan whose account is no longer marked undeliverable (cleared since).
with items as (
    select
        id,
        account_id
    from plan_items
    where plan_id = :plan_id
      and status = 'pending'
),

still_marked as (
    select id
    from accounts
    where email_status = 'undeliverable'
),

final as (
    select items.id
    from items
    left join still_marked on still_marked.id = items.account_id
    where still_marked.id is null
)

select * from final
order by id
