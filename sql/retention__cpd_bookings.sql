-- retention rule cpd_bookings: bookings of courses that ended (cpd_courses.ends_on) before the cutoff.
with courses as (
    select id, ends_on
    from cpd_courses
),

bookings as (
    select id, account_id, course_id
    from cpd_bookings
),

final as (
    select
        bookings.id as row_id,
        bookings.account_id,
        courses.ends_on as anchor
    from bookings
    inner join courses on courses.id = bookings.course_id
    where courses.ends_on < :cutoff
)

select * from final
