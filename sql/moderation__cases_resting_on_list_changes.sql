-- Open cases that rest only on hits cleared by a keyword list change (terms withdrawn, words
-- allow-listed): no hit in force, no hit cleared because the post changed, and no report.
with open_cases as (
    select
        id,
        post_id
    from moderation_cases
    where status = 'open'
),

list_cleared as (
    select distinct case_id
    from scan_hits
    where case_id is not null and cleared_reason in ('withdrawn', 'allow_listed')
),

still_resting as (
    select distinct case_id
    from scan_hits
    where case_id is not null and (cleared_at is null or cleared_reason = 'edited')
),

reported as (
    select distinct case_id
    from moderation_case_reports
),

final as (
    select open_cases.*
    from open_cases
    inner join list_cleared on list_cleared.case_id = open_cases.id
    left join still_resting on still_resting.case_id = open_cases.id
    left join reported on reported.case_id = open_cases.id
    where still_resting.case_id is null and reported.case_id is null
)

select * from final
order by id
