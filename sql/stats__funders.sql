-- The funders steward knows: every sponsor of a CPD course, with how many courses they sponsored.
with sponsors as (
    select sponsor as name, count(*) as sponsored_courses
    from cpd_courses
    where sponsor is not null
    group by sponsor
),

final as (
    select * from sponsors
)

select * from final
order by name
