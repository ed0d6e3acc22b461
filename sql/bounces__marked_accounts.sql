-- Accounts marked undeliverable (by this job, or as `bounced` by an earlier system), with their mark.
with marked as (
    select
        id as account_id,
        email,
        email_status,
        email_status_changed_at
    from accounts
    where email_status in ('undeliverable', 'bounced')
),

marks as (
    select
        account_id,
        address_hash,
        reason,
        undeliverable_since
    from email_deliverability
),

final as (
    select
        marked.account_id,
        marked.email,
        marked.email_status,
        marked.email_status_changed_at,
        marks.address_hash,
        marks.reason,
        marks.undeliverable_since
    from marked
    left join marks on marks.account_id = marked.account_id
)

select * from final
order by account_id
