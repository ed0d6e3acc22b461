-- Accounts with an active CPD booking (a booking not cancelled, on a course that has not ended yet),
-- with the last such course's end date: the account cannot be deleted before then.
with bookings as (
    select
        account_id,
        course_id
    from cpd_bookings
    where account_id in :account_ids
      and status <> 'cancelled'
),

courses as (
    select
        id,
        ends_on
    from cpd_courses
    where ends_on >= :today
),

final as (
    select
        bookings.account_id,
        max(courses.ends_on) as last_course_ends_on
    from bookings
    inner join courses on courses.id = bookings.course_id
    group by bookings.account_id
)

select * from final
