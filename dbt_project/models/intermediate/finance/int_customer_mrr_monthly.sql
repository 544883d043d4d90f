{#- One row per customer per month with at least one recurring line covering the month's
    snapshot date: net and gross MRR in reporting currency. -#}
select
    month,
    customer_id,
    cast(sum(mrr) as {{ money_type() }}) as mrr,
    cast(sum(gross_mrr) as {{ money_type() }}) as gross_mrr
from {{ ref('int_mrr_lines_monthly') }}
group by month, customer_id
