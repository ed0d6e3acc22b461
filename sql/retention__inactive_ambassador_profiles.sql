-- retention rule inactive_ambassador_profiles: ambassador profiles whose latest of joined_on,
-- last_activity_on and the end of the ambassador's latest activity (ambassador_activities.ended_on) is
-- before the cutoff.
with profiles as (
    select account_id, joined_on, last_activity_on
    from ambassador_profiles
),

latest_activity as (
    select
        profiles.account_id,
        profiles.joined_on,
        profiles.last_activity_on,
        (
            select max(ambassador_activities.ended_on)
            from ambassador_activities
            where ambassador_activities.account_id = profiles.account_id
        ) as last_activity_ended_on
    from profiles
),

profile_anchor as (
    select
        account_id,
        last_activity_ended_on,
        case
            when last_activity_on is not null and last_activity_on > joined_on then last_activity_on
            else joined_on
        end as latest_profile_date
    from latest_activity
),

anchored as (
    select
        account_id,
        case
            when last_activity_ended_on is not null and last_activity_ended_on > latest_profile_date
                then last_activity_ended_on
            else latest_profile_date
        end as anchor
    from profile_anchor
),

final as (
    select
        account_id as row_id,
        account_id,
        anchor
    from anchored
    where anchor < :cutoff
)

select * from final
