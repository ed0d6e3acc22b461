-- Impact measures recorded for activities that ended in the period: per measure, the number of
-- responses, the distinct people who gave them, the mean and the median score. Restricted accounts are
-- left out. Whether a mean or median may be published is decided downstream (enough contributors).
with respondents as (
    select id
    from accounts
    where restricted = false
),

records as (
    select impact.measure, impact.account_id, impact.score
    from impact_records as impact
    inner join respondents on respondents.id = impact.account_id
    where impact.activity_ended_on >= :period_start
        and impact.activity_ended_on <= :period_end
),

ordered as (
    select
        measure,
        score,
        row_number() over (partition by measure order by score) as position,
        count(*) over (partition by measure) as responses
    from records
),

medians as (
    select measure, avg(score) as median_score
    from ordered
    where position in ((responses + 1) / 2, (responses + 2) / 2)
    group by measure
),

summary as (
    select
        measure,
        count(*) as responses,
        count(distinct account_id) as contributors,
        avg(score) as mean_score
    from records
    group by measure
),

final as (
    select
        summary.measure,
        summary.responses,
        summary.contributors,
        summary.mean_score,
        medians.median_score
    from summary
    inner join medians on medians.measure = summary.measure
)

select * from final
