-- Which of the given accounts are restricted (UK GDPR art. 18): no job removes or reduces them.
with restricted as (
    select id
    from accounts
    where id in :account_ids
      and restricted
),

final as (
    select * from restricted
)

select * from final
