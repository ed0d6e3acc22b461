-- retention rule inactive_accounts: accounts whose latest activity of any kind (registration, last
-- sign-in, last recorded activity; nulls ignored) is before the cutoff.
with activity as (
    select id, registered_at, last_sign_in_at, last_activity_at
    from accounts
),

signed_in as (
    select
        id,
        last_activity_at,
        case
            when last_sign_in_at is not null and last_sign_in_at > registered_at then last_sign_in_at
            else registered_at
        end as latest_sign_in_or_registration
    from activity
),

anchored as (
    select
        id,
        case
            when last_activity_at is not null and last_activity_at > latest_sign_in_or_registration
                then last_activity_at
            else latest_sign_in_or_registration
        end as anchor
    from signed_in
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
