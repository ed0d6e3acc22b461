-- retention rule impact_records: impact records whose activity ended before the cutoff.
with impact as (
    select id, account_id, activity_ended_on
    from impact_records
),

final as (
    select
        id as row_id,
        account_id,
        activity_ended_on as anchor
    from impact
    where activity_ended_on < :cutoff
)

select * from final
