-- The hits the moderation queue has not taken in yet, by post: how many, when the first hold hit was
-- found (null when none holds) and their categories (comma-separated). One row per post rather than one
-- per hit: a first scan finds tens of thousands.
with pending as (
    select
        post_id,
        action,
        category,
        found_at
    from scan_hits
    where applied_at is null and cleared_at is null
),

final as (
    select
        post_id,
        count(*) as hits,
        min(case when action = 'hold' then found_at end) as first_hold_at,
        string_agg(distinct category, ',') as categories
    from pending
    group by post_id
)

select * from final
order by post_id
