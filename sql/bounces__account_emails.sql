-- The addresses of the given accounts (kept in memory to hash them; never logged).
with selected as (
    select
        id,
        email
    from accounts
    where id in :account_ids
),

final as (
    select * from selected
)

select * from final
