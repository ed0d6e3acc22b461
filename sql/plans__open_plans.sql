-- Plans of one kind not yet applied or rejected, oldest first.
with open_plans as (
    select
        id,
        kind,
        status,
        created_at,
        approved_at
    from plans
    where kind = :kind
      and status in ('draft', 'ready', 'awaiting_approval', 'approved', 'applying')
),

final as (
    select * from open_plans
)

select * from final
order by id
