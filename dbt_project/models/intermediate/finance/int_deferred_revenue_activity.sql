{#- Billings and recognized revenue summed per month, customer and currency (document
    currency, up to the as-of month). -#}
with activity as (

    select
        month,
        customer_id,
        currency,
        billed_amount as billings,
        cast(0 as {{ money_type() }}) as recognized_revenue
    from {{ ref('int_invoice_lines_billed') }}

    union all

    select
        month,
        customer_id,
        currency,
        cast(0 as {{ money_type() }}) as billings,
        revenue_amount as recognized_revenue
    from {{ ref('int_revenue_schedule_lines_dated') }}
    where is_recognized

)

select
    month,
    customer_id,
    currency,
    cast(sum(billings) as {{ money_type() }}) as billings,
    cast(sum(recognized_revenue) as {{ money_type() }}) as recognized_revenue
from activity
group by month, customer_id, currency
