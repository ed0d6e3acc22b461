-- The accounts in the database: the denominator of the guard's share.
with counted as (
    select count(*) as accounts
    from accounts
),

final as (
    select * from counted
)

select * from final
