-- CPD participation in a period: attended bookings on courses that ended in the period, by the
-- participant's region and the course's subject (with margins), and by the participant's school phase.
-- `contributors` counts distinct people (the frequency rule counts people, not bookings).
-- Restricted accounts are left out. The period bounds are dates, both included.
with courses as (
    select id, subject
    from cpd_courses
    where ends_on >= :period_start
        and ends_on <= :period_end
),

participants as (
    select
        id,
        region,
        coalesce(school_phase, 'Not recorded') as school_phase
    from accounts
    where restricted = false
),

bookings as (
    select course_id, account_id
    from cpd_bookings
    where status = 'attended'
),

per_person as (
    select
        participants.region,
        courses.subject,
        participants.school_phase,
        bookings.account_id,
        count(*) as participations
    from bookings
    inner join courses on courses.id = bookings.course_id
    inner join participants on participants.id = bookings.account_id
    group by participants.region, courses.subject, participants.school_phase, bookings.account_id
),

final as (
    select
        'cell' as level,
        region,
        subject,
        cast(null as varchar(20)) as school_phase,
        sum(participations) as participations,
        count(distinct account_id) as contributors
    from per_person
    group by region, subject
    union all
    select 'region', region, null, null, sum(participations), count(distinct account_id)
    from per_person
    group by region
    union all
    select 'subject', null, subject, null, sum(participations), count(distinct account_id)
    from per_person
    group by subject
    union all
    select 'phase', null, null, school_phase, sum(participations), count(distinct account_id)
    from per_person
    group by school_phase
    union all
    select 'total', null, null, null, sum(participations), count(distinct account_id)
    from per_person
)

select * from final
