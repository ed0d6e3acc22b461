-- Cases a moderator decided (removed or restored) since a moment: how long each took.
with decided as (
    select
        id,
        categories,
        opened_at,
        decided_at
    from moderation_cases
    where status in ('removed', 'restored') and decided_at >= :since
),

final as (
    select * from decided
)

select * from final
order by decided_at, id
