-- retention rule ambassador_activities: ambassador activities that ended before the cutoff.
with activities as (
    select id, account_id, ended_on
    from ambassador_activities
),

final as (
    select
        id as row_id,
        account_id,
        ended_on as anchor
    from activities
    where ended_on < :cutoff
)

select * from final
