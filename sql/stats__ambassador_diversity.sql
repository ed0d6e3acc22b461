-- The diversity of the STEM Ambassadors active in the period (at least one activity ended in it):
-- counts of people by gender, by broad ethnic group and by age band at the end of the period, and
-- their total. Special-category data leaves the database only as these counts (protected downstream).
-- Restricted accounts are left out. born_after_N is the period end minus N years.
with restricted as (
    select id
    from accounts
    where restricted = true
),

active as (
    -- read in account order from the covering index (see stats__ambassador_activities)
    select account_id
    from ambassador_activities
    where coalesce(ended_on, ended_on) >= :period_start
        and coalesce(ended_on, ended_on) <= :period_end
        and account_id not in (select id from restricted)
    group by account_id
),

people as (
    select
        coalesce(profiles.gender, 'Not recorded') as gender,
        case
            when profiles.ethnicity is null then 'Not recorded'
            when profiles.ethnicity = 'Prefer not to say' then 'Prefer not to say'
            when profiles.ethnicity like 'Asian%' then 'Asian or Asian British'
            when profiles.ethnicity like 'Black%' then 'Black, Black British, Caribbean or African'
            when profiles.ethnicity like 'Mixed%' then 'Mixed or Multiple ethnic groups'
            when profiles.ethnicity like 'White%' then 'White'
            else 'Other ethnic group'
        end as ethnic_group,
        case
            when profiles.date_of_birth is null then 'Not recorded'
            when profiles.date_of_birth > :born_after_25 then 'Under 25'
            when profiles.date_of_birth > :born_after_35 then '25 to 34'
            when profiles.date_of_birth > :born_after_45 then '35 to 44'
            when profiles.date_of_birth > :born_after_55 then '45 to 54'
            when profiles.date_of_birth > :born_after_65 then '55 to 64'
            else '65 and over'
        end as age_band
    from active
    left join ambassador_profiles as profiles on profiles.account_id = active.account_id
),

final as (
    select 'gender' as dimension, gender as category, count(*) as people
    from people
    group by gender
    union all
    select 'ethnic_group', ethnic_group, count(*)
    from people
    group by ethnic_group
    union all
    select 'age_band', age_band, count(*)
    from people
    group by age_band
    union all
    select 'total', null, count(*)
    from people
)

select * from final
