-- The moderation queue: open cases with how many hits and reports each rests on, the nearest due first.
with open_cases as (
    select
        id,
        post_id,
        source,
        categories,
        opened_at,
        due_at
    from moderation_cases
    where status = 'open'
),

hit_counts as (
    select
        case_id,
        count(*) as hits
    from scan_hits
    where cleared_at is null and case_id is not null
    group by case_id
),

report_counts as (
    select
        case_id,
        count(*) as reports
    from moderation_case_reports
    group by case_id
),

final as (
    select
        open_cases.*,
        coalesce(hit_counts.hits, 0) as hits,
        coalesce(report_counts.reports, 0) as reports
    from open_cases
    left join hit_counts on hit_counts.case_id = open_cases.id
    left join report_counts on report_counts.case_id = open_cases.id
)

select * from final
order by due_at, id
