-- Participation in the courses one sponsor funded that ended in the period: every such course (with
-- zero when nobody attended), then the total over them. Restricted accounts are left out.
with courses as (
    select id, code, title, subject
    from cpd_courses
    where sponsor = :sponsor
        and ends_on >= :period_start
        and ends_on <= :period_end
),

participants as (
    select id
    from accounts
    where restricted = false
),

attended as (
    select bookings.course_id, bookings.account_id
    from cpd_bookings as bookings
    inner join participants on participants.id = bookings.account_id
    where bookings.status = 'attended'
        and bookings.course_id in (select id from courses)
),

per_course as (
    select
        courses.code,
        courses.title,
        courses.subject,
        count(attended.account_id) as participations,
        count(distinct attended.account_id) as contributors
    from courses
    left join attended on attended.course_id = courses.id
    group by courses.code, courses.title, courses.subject
),

final as (
    select 'course' as level, code, title, subject, participations, contributors
    from per_course
    union all
    select 'total', null, null, null, count(*), count(distinct account_id)
    from attended
)

select * from final
