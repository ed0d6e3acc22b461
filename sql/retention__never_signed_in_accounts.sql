-- retention rule never_signed_in_accounts: accounts never signed in to, registered and last active
-- before the cutoff. The anchor is the latest of registered_at and last_activity_at (nulls ignored).
with never_signed_in as (
    select id, registered_at, last_activity_at
    from accounts
    where last_sign_in_at is null
),

anchored as (
    select
        id,
        case
            when last_activity_at is not null and last_activity_at > registered_at then last_activity_at
            else registered_at
        end as anchor
    from never_signed_in
),

final as (
    select
        id as row_id,
        id as account_id,
        anchor
    from anchored
    where anchor < :cutoff
)

select * from final
