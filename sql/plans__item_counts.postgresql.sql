-- A plan's items counted per rule, table, action, status and kind of deferral (the text before ':').
with items as (
    select
        rule,
        subject_table,
        action,
        status,
        case
            when deferred_reason is null then null
            when strpos(deferred_reason, ':') > 0
                then split_part(deferred_reason, ':', 1)
            else deferred_reason
        end as deferred_category
    from plan_items
    where plan_id = :plan_id
),

final as (
    select
        rule,
        subject_table,
        action,
        status,
        deferred_category,
        count(*) as items
    from items
    group by rule, subject_table, action, status, deferred_category
)

select * from final
order by rule, subject_table, action, status, deferred_category
