-- retention rule closed_information_requests: requests for information closed before the cutoff.
with information_requests_closed as (
    select id, closed_at
    from information_requests
    where closed_at is not null
),

final as (
    select
        id as row_id,
        cast(null as bigint) as account_id,
        closed_at as anchor
    from information_requests_closed
    where closed_at < :cutoff
)

select * from final
