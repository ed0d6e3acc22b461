-- The account whose address matches, compared trimmed and case-insensitively.
with matches as (
    select id
    from accounts
    where lower(email) = :email_normalised
),

final as (
    select * from matches
)

select * from final
order by id
limit 1
