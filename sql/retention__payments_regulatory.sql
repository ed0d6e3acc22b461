-- retention rule payments_regulatory: payments made before the cutoff (the day after the end of the
-- last financial year whose regulatory lifetime has ended) that still hold personal data (the payer's
-- reference). The invoice's account, if it still has one, is the subject.
with payments_personal as (
    select id, invoice_id, paid_on
    from payments
    where payer_reference is not null
),

invoice_accounts as (
    select id, account_id
    from invoices
),

final as (
    select
        payments_personal.id as row_id,
        invoice_accounts.account_id,
        payments_personal.paid_on as anchor
    from payments_personal
    inner join invoice_accounts on invoice_accounts.id = payments_personal.invoice_id
    where payments_personal.paid_on < :cutoff
)

select * from final
