-- Undeliverable accounts per reason, and how many of them are past the grace period.
with marked as (
    select
        accounts.id,
        email_deliverability.reason,
        coalesce(email_deliverability.undeliverable_since, accounts.email_status_changed_at) as since
    from accounts
    left join email_deliverability on email_deliverability.account_id = accounts.id
    where accounts.email_status = 'undeliverable'
),

final as (
    select
        reason,
        count(*) as accounts,
        sum(case when since <= :cutoff then 1 else 0 end) as past_grace
    from marked
    group by reason
)

select * from final
order by reason
