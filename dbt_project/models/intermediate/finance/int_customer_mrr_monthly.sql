{#- Line MRR summed per customer and month: net and gross MRR in reporting currency (null when
    a line has no exchange rate, never a short total). -#}
select
    month,
    customer_id,
    cast({{ sum_or_null('mrr') }} as {{ money_type() }}) as mrr,
    cast({{ sum_or_null('gross_mrr') }} as {{ money_type() }}) as gross_mrr
from {{ ref('int_mrr_lines_monthly') }}
group by month, customer_id
