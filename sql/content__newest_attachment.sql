-- When the newest attachment was uploaded: part of the snapshot a scan runs up to.
with newest as (
    select max(uploaded_at) as uploaded_at
    from post_attachments
),

final as (
    select * from newest
)

select * from final
