-- The people who agreed to research sharing and have not restricted processing, with what a research
-- partner receives about them: no name, contact detail, employer, free text or special-category data.
with people as (
    select id, account_type, region, school_phase, subject, registered_at
    from accounts
    where consent_research = true
        and restricted = false
),

cpd as (
    select bookings.account_id, count(*) as cpd_courses_attended
    from cpd_bookings as bookings
    inner join people on people.id = bookings.account_id
    where bookings.status = 'attended'
    group by bookings.account_id
),

activities as (
    select
        activities.account_id,
        count(*) as ambassador_activities,
        sum(activities.hours) as ambassador_hours
    from ambassador_activities as activities
    inner join people on people.id = activities.account_id
    group by activities.account_id
),

impact as (
    select impact.account_id, count(*) as impact_responses, avg(impact.score) as mean_impact_score
    from impact_records as impact
    inner join people on people.id = impact.account_id
    group by impact.account_id
),

final as (
    select
        people.id as account_id,
        people.account_type,
        people.region,
        people.school_phase,
        people.subject,
        people.registered_at,
        coalesce(cpd.cpd_courses_attended, 0) as cpd_courses_attended,
        coalesce(activities.ambassador_activities, 0) as ambassador_activities,
        coalesce(activities.ambassador_hours, 0) as ambassador_hours,
        coalesce(impact.impact_responses, 0) as impact_responses,
        impact.mean_impact_score
    from people
    left join cpd on cpd.account_id = people.id
    left join activities on activities.account_id = people.id
    left join impact on impact.account_id = people.id
)

select * from final
