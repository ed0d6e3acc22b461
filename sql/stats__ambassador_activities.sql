-- STEM Ambassador activities that ended in the period, by the activity's region and type, with margins:
-- the number of activities, the hours, the distinct ambassadors, and the hours of the top_n largest
-- contributors (the dominance rule). Restricted accounts are left out.
--
-- Written for tens of millions of activities on SQLite: each contribution level is read from the
-- covering index ix_ambassador_activities_account_id_region_type in account order (no big sort);
-- coalesce() on ended_on keeps SQLite off the ended_on index, whose row-by-row lookups are slower
-- than reading the covering index whole.
with restricted as (
    select id
    from accounts
    where restricted = true
),

cell_people as (
    select account_id, region, activity_type, count(*) as activities, sum(hours) as hours
    from ambassador_activities
    where coalesce(ended_on, ended_on) >= :period_start
        and coalesce(ended_on, ended_on) <= :period_end
        and account_id not in (select id from restricted)
    group by account_id, region, activity_type
),

region_people as (
    select account_id, region, count(*) as activities, sum(hours) as hours
    from ambassador_activities
    where coalesce(ended_on, ended_on) >= :period_start
        and coalesce(ended_on, ended_on) <= :period_end
        and account_id not in (select id from restricted)
    group by account_id, region
),

type_people as (
    select account_id, activity_type, sum(activities) as activities, sum(hours) as hours
    from cell_people
    group by account_id, activity_type
),

people as (
    select account_id, sum(activities) as activities, sum(hours) as hours
    from region_people
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
    from cell_people
    union all
    select
        'region',
        region,
        null,
        activities,
        hours,
        row_number() over (partition by region order by hours desc, account_id)
    from region_people
    union all
    select
        'type',
        null,
        activity_type,
        activities,
        hours,
        row_number() over (partition by activity_type order by hours desc, account_id)
    from type_people
    union all
    select
        'total',
        null,
        null,
        activities,
        hours,
        row_number() over (order by hours desc, account_id)
    from people
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
