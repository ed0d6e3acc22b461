-- Participation in the courses one sponsor funded that ended in the period: every such course (with
-- zero when nobody attended), then the total over them. Restricted accounts are left out. The
-- bookings are found from the sponsor's courses (through the bookings' course index), never by reading
-- every booking.
with courses as (
    select id, code, title, subject
    from cpd_courses
    where sponsor = :sponsor
        and ends_on >= :period_start
        and ends_on <= :period_end
),

restricted as (
    select id
    from accounts
    where restricted = true
),

attended as (
    select cpd_bookings.course_id, cpd_bookings.account_id
    from courses
    inner join cpd_bookings on cpd_bookings.course_id = courses.id
    where cpd_bookings.status = 'attended'
        and cpd_bookings.account_id not in (select id from restricted)
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
