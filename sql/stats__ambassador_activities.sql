-- STEM Ambassador activities that ended in the period, by the activity's region and type, with margins:
-- the number of activities, the hours, the distinct ambassadors, and the hours of the top_n largest
-- contributors (the dominance rule). Restricted accounts are left out.
with ambassadors as (
    select id
    from accounts
    where restricted = false
),

activities as (
    select
        activities.account_id,
        activities.region,
        activities.activity_type,
        activities.hours
    from ambassador_activities as activities
    inner join ambassadors on ambassadors.id = activities.account_id
    where activities.ended_on >= :period_start
        and activities.ended_on <= :period_end
),

per_person as (
    select region, activity_type, account_id, count(*) as activities, sum(hours) as hours
    from activities
    group by region, activity_type, account_id
),

per_person_region as (
    select region, account_id, sum(activities) as activities, sum(hours) as hours
    from per_person
    group by region, account_id
),

per_person_type as (
    select activity_type, account_id, sum(activities) as activities, sum(hours) as hours
    from per_person
    group by activity_type, account_id
),

per_person_all as (
    select account_id, sum(activities) as activities, sum(hours) as hours
    from per_person
    group by account_id
),

ranked as (
    select
        'cell' as level,
        region,
        activity_type,
        activities,
        hours,
        row_number() over (partition by region, activity_type order by hours desc, account_id) as rank
    from per_person
    union all
    select
        'region',
        region,
        null,
        activities,
        hours,
        row_number() over (partition by region order by hours desc, account_id)
    from per_person_region
    union all
    select
        'type',
        null,
        activity_type,
        activities,
        hours,
        row_number() over (partition by activity_type order by hours desc, account_id)
    from per_person_type
    union all
    select
        'total',
        null,
        null,
        activities,
        hours,
        row_number() over (order by hours desc, account_id)
    from per_person_all
),

final as (
    select
        level,
        region,
        activity_type,
        sum(activities) as activities,
        sum(hours) as hours,
        count(*) as contributors,
        sum(case when rank <= :top_n then hours else 0 end) as top_hours
    from ranked
    group by level, region, activity_type
)

select * from final
