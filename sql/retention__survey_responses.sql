-- retention rule survey_responses: responses submitted before the cutoff.
with responses as (
    select id, account_id, submitted_at
    from survey_responses
),

final as (
    select
        id as row_id,
        account_id,
        submitted_at as anchor
    from responses
    where submitted_at < :cutoff
)

select * from final
