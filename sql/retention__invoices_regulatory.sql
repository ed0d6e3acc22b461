-- retention rule invoices_regulatory: invoices issued before the cutoff (the day after the end of the
-- last financial year whose regulatory lifetime has ended) that still hold personal data: a link to
-- an account or a booking, or the billing name, address or email.
with invoices_personal as (
    select id, account_id, issued_on
    from invoices
    where account_id is not null
        or booking_id is not null
        or billing_name is not null
        or billing_email is not null
        or billing_address is not null
),

final as (
    select
        id as row_id,
        account_id,
        issued_on as anchor
    from invoices_personal
    where issued_on < :cutoff
)

select * from final
