-- Accounts undeliverable since before the cutoff (the grace period has ended), and whether an open
-- removal plan already has them pending.
with undeliverable as (
    select
        accounts.id as account_id,
        coalesce(email_deliverability.undeliverable_since, accounts.email_status_changed_at)
            as undeliverable_since,
        email_deliverability.reason
    from accounts
    left join email_deliverability on email_deliverability.account_id = accounts.id
    where accounts.email_status = 'undeliverable'
),

open_items as (
    select distinct plan_items.account_id
    from plan_items
    inner join plans on plans.id = plan_items.plan_id
    where plans.kind = :kind
      and plans.status in ('draft', 'ready', 'awaiting_approval', 'approved', 'applying')
      and plan_items.status = 'pending'
      and plan_items.account_id is not null
),

final as (
    select
        undeliverable.account_id,
        undeliverable.undeliverable_since,
        undeliverable.reason,
        case when open_items.account_id is null then 0 else 1 end as in_open_plan
    from undeliverable
    left join open_items on open_items.account_id = undeliverable.account_id
    where undeliverable.undeliverable_since <= :cutoff
)

select * from final
order by account_id
