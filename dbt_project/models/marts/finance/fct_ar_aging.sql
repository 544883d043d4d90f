{#- Open receivables as of the as-of date: invoices and debit memos dated on or before it, with
    a balance > 0 (balance incl. tax, as of the latest load), never Draft, Reversed or (debit
    memos) Void or carrying reversed_on. Days past due = as-of date - due date; a debit memo
    has no due date in the API and is due on its debit_date (revenue-rules §9). Buckets
    current (not yet due), 1-30, 31-60, 61-90, 90+. -#}
with open_invoices as (

    select
        invoice_id as document_id,
        'invoice' as document_type,
        customer_id,
        currency,
        balance_amount,
        due_date
    from {{ ref('stg_ordway__invoices') }}
    where
        invoice_status not in ('Draft', 'Reversed')
        and balance_amount > 0
        and invoice_date <= {{ as_of_date() }}

),

open_debit_memos as (

    select
        debit_memo_id as document_id,
        'debit_memo' as document_type,
        customer_id,
        currency,
        balance_amount,
        debit_date as due_date
    from {{ ref('stg_ordway__debit_memos') }}
    where
        debit_memo_status not in ('Draft', 'Reversed', 'Void')
        and reversed_date is null
        and balance_amount > 0
        and debit_date <= {{ as_of_date() }}

),

open_documents as (

    select * from open_invoices
    union all
    select * from open_debit_memos

),

aged as (

    select
        *,
        {{ date_diff('due_date', as_of_date(), 'day') }} as days_past_due
    from open_documents

)

select
    {{ as_of_date() }} as as_of_date,
    document_id as invoice_id,
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
    end as aging_bucket,
    document_type
from aged
