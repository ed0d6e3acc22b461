-- Legal holds not lifted: each blocks every plan item about its account or address.
with holds as (
    select
        id,
        account_id,
        lower(trim(email)) as email_normalised
    from legal_holds
    where lifted_at is null
),

final as (
    select * from holds
)

select * from final
order by id
