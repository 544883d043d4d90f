{#- Open invoices as of the as-of date: invoices dated on or before it, not Draft or
    Reversed, with a balance > 0 (balance incl. tax, as of the latest load). Days past due =
    as-of date - due_date; buckets current (not yet due), 1-30, 31-60, 61-90, 90+. -#}
with invoices as (

    select
        *,
        {{ as_of_date() }} as as_of_date
    from {{ ref('stg_ordway__invoices') }}

),

open_invoices as (

    select
        invoice_id,
        customer_id,
        currency,
        balance_amount,
        due_date,
        as_of_date,
        {{ date_diff('due_date', 'as_of_date', 'day') }} as days_past_due
    from invoices
    where
        invoice_status not in ('Draft', 'Reversed')
        and balance_amount > 0
        and invoice_date <= {{ as_of_date() }}

)

select
    as_of_date,
    invoice_id,
    customer_id,
    currency,
    cast(balance_amount as {{ money_type() }}) as balance,
    due_date,
    cast(days_past_due as integer) as days_past_due,
    case
        when days_past_due is null or days_past_due <= 0 then 'current'
        when days_past_due <= 30 then '1-30'
        when days_past_due <= 60 then '31-60'
        when days_past_due <= 90 then '61-90'
        else '90+'
    end as aging_bucket
from open_invoices
