-- STEM Ambassador activities that ended in the period, by the activity's region and type, with margins:
-- the number of activities, the hours, the distinct ambassadors, and the hours of the top_n largest
-- contributors (the dominance rule). Restricted accounts are left out.
--
-- Written for tens of millions of activities on SQLite: each person's contribution to each cell is
-- read from the covering index ix_ambassador_activities_account_id_region_type in account order (no
-- big sort), and the other levels are summed from those; coalesce() on ended_on keeps SQLite off the
-- ended_on index, whose row-by-row lookups are slower than reading the covering index whole.
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
    select account_id, region, sum(activities) as activities, sum(hours) as hours
    from cell_people
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

-- Each level in one sort: window aggregates over the whole partition give the totals and the count of
-- people, a running sum gives the hours of the top_n largest contributors (read at rank top_n, or at
-- the last rank when fewer people contributed), so no GROUP BY sorts the rows again.
ranked as (
    select
        'cell' as level,
        region,
        activity_type,
        count(*) over whole_cell as contributors,
        sum(activities) over whole_cell as activities,
        sum(hours) over whole_cell as hours,
        sum(hours) over running_cell as top_hours,
        row_number() over cell as rank
    from cell_people
    window
        cell as (partition by region, activity_type order by hours desc, account_id),
        whole_cell as (cell rows between unbounded preceding and unbounded following),
        running_cell as (cell rows between unbounded preceding and current row)
    union all
    select
        'region',
        region,
        null,
        count(*) over whole_region,
        sum(activities) over whole_region,
        sum(hours) over whole_region,
        sum(hours) over running_region,
        row_number() over by_region
    from region_people
    window
        by_region as (partition by region order by hours desc, account_id),
        whole_region as (by_region rows between unbounded preceding and unbounded following),
        running_region as (by_region rows between unbounded preceding and current row)
    union all
    select
        'type',
        null,
        activity_type,
        count(*) over whole_type,
        sum(activities) over whole_type,
        sum(hours) over whole_type,
        sum(hours) over running_type,
        row_number() over by_type
    from type_people
    window
        by_type as (partition by activity_type order by hours desc, account_id),
        whole_type as (by_type rows between unbounded preceding and unbounded following),
        running_type as (by_type rows between unbounded preceding and current row)
    union all
    select
        'total',
        null,
        null,
        count(*) over whole_total,
        sum(activities) over whole_total,
        sum(hours) over whole_total,
        sum(hours) over running_total,
        row_number() over by_total
    from people
    window
        by_total as (order by hours desc, account_id),
        whole_total as (by_total rows between unbounded preceding and unbounded following),
        running_total as (by_total rows between unbounded preceding and current row)
),

final as (
    select level, region, activity_type, activities, hours, contributors, top_hours
    from ranked
    where rank = case when contributors < :top_n then contributors else :top_n end
)

select * from final
