-- retention rule unsuccessful_job_applications: unsuccessful applications whose decision is before the cutoff.
-- The cutoff is the UTC moment of the first local midnight not yet past the limit; the outcome comes
-- from the rule's parameters.
with applications as (
    select id, outcome, decided_at
    from job_applications
),

final as (
    select
        id as row_id,
        cast(null as bigint) as account_id,
        decided_at as anchor
    from applications
    where outcome = :outcome
        and decided_at < :cutoff
)

select * from final
