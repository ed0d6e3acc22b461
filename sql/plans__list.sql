-- The latest plans (optionally of one kind) with their item counts by status.
with selected_plans as (
    select
        id,
        kind,
        status,
        created_at,
        approved_at,
        approved_by,
        applied_at
    from plans
    where cast(:kind as varchar(30)) is null or kind = cast(:kind as varchar(30))
    order by id desc
    limit :limit
),

item_counts as (
    select
        plan_id,
        count(*) as items,
        sum(case when status = 'pending' then 1 else 0 end) as pending,
        sum(case when status = 'done' then 1 else 0 end) as done,
        sum(case when status = 'deferred' then 1 else 0 end) as deferred
    from plan_items
    where plan_id in (select id from selected_plans)
    group by plan_id
),

final as (
    select
        selected_plans.id,
        selected_plans.kind,
        selected_plans.status,
        selected_plans.created_at,
        selected_plans.approved_at,
        selected_plans.approved_by,
        selected_plans.applied_at,
        coalesce(item_counts.items, 0) as items,
        coalesce(item_counts.pending, 0) as pending,
        coalesce(item_counts.done, 0) as done,
        coalesce(item_counts.deferred, 0) as deferred
    from selected_plans
    left join item_counts on item_counts.plan_id = selected_plans.id
)

select * from final
order by id desc
