-- CPD participation in a period: attended bookings on courses that ended in the period, by the
-- participant's region and the course's subject (with margins), and by the participant's school phase.
-- `contributors` counts distinct people (the frequency rule counts people, not bookings).
-- Restricted accounts are left out. The period bounds are dates, both included.
--
-- Written for tens of millions of bookings on SQLite: the bookings are read through the covering index
-- ix_cpd_bookings_account_id_status_course_id, in account order, so grouping per person needs no big
-- sort; `course_id + 0` keeps SQLite from walking them through the course index instead (a random
-- read per booking); each person is counted once per cell by grouping per person first, so no
-- count(distinct) sorts millions of rows again.
with restricted as (
    select id
    from accounts
    where restricted = true
),

per_subject as (
    select cpd_bookings.account_id, cpd_courses.subject, count(*) as participations
    from cpd_bookings
    inner join cpd_courses on cpd_courses.id = cpd_bookings.course_id + 0
    where cpd_bookings.status = 'attended'
        and cpd_courses.ends_on >= :period_start
        and cpd_courses.ends_on <= :period_end
        and cpd_bookings.account_id not in (select id from restricted)
    group by cpd_bookings.account_id, cpd_courses.subject
),

per_person as (
    select account_id, sum(participations) as participations
    from per_subject
    group by account_id
),

people as (
    select
        per_person.account_id,
        per_person.participations,
        accounts.region,
        coalesce(accounts.school_phase, 'Not recorded') as school_phase
    from per_person
    inner join accounts on accounts.id = per_person.account_id
),

per_person_subject as (
    select accounts.region, per_subject.subject, per_subject.participations
    from per_subject
    inner join accounts on accounts.id = per_subject.account_id
),

cells as (
    select region, subject, sum(participations) as participations, count(*) as contributors
    from per_person_subject
    group by region, subject
),

final as (
    select
        'cell' as level,
        region,
        subject,
        cast(null as varchar(20)) as school_phase,
        participations,
        contributors
    from cells
    union all
    select 'region', region, null, null, sum(participations), count(*)
    from people
    group by region
    union all
    -- each person belongs to one region, so a subject's people are the sum of its cells' people
    select 'subject', null, subject, null, sum(participations), sum(contributors)
    from cells
    group by subject
    union all
    select 'phase', null, null, school_phase, sum(participations), count(*)
    from people
    group by school_phase
    union all
    select 'total', null, null, null, sum(participations), count(*)
    from people
)

select * from final
