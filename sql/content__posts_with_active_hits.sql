-- Posts with a hit still in force: the ones to check again when allow-listed words are added.
with active_hits as (
    select distinct post_id
    from scan_hits
    where cleared_at is null
),

final as (
    select post_id as id from active_hits
)

select * from final
order by id
