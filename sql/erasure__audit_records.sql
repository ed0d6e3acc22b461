-- The audit records of erasures (optionally of one plan), for the journal kept outside the database.
with records as (
    select
        id,
        occurred_at,
        run_id,
        event,
        subject_hash,
        rule,
        plan_id,
        request_id,
        detail
    from audit_log
    where event in ('subject_erased', 'row_deleted', 'row_anonymised')
      and (cast(:plan_id as integer) is null or plan_id = cast(:plan_id as integer))
),

final as (
    select * from records
)

select * from final
order by id
