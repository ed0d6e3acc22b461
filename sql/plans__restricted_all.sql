-- Every restricted account (UK GDPR art. 18): the watchlist of a plan's set-based check.
with restricted as (
    select id
    from accounts
    where restricted
),

final as (
    select * from restricted
)

select * from final
