-- Who received this account's data (the data-share log): each must be told of a rectification.
with shares as (
    select
        recipient,
        dataset,
        shared_at
    from data_shares
    where account_id = :account_id
),

final as (
    select
        recipient,
        dataset,
        max(shared_at) as last_shared_at,
        count(*) as times
    from shares
    group by recipient, dataset
)

select * from final
order by recipient, dataset
