-- Reports (members' and trusted flaggers') that no moderation case has taken in yet, oldest first.
with reports as (
    select
        id,
        post_id,
        reporter_kind,
        reason,
        created_at
    from content_reports
),

linked as (
    select report_id
    from moderation_case_reports
),

final as (
    select reports.*
    from reports
    left join linked on linked.report_id = reports.id
    where linked.report_id is null
)

select * from final
order by created_at, id
