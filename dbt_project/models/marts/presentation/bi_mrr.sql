{#- fct_mrr for people and BI tools: money rounded half away from zero to cents;
    the exact values stay in fct_mrr. -#}
select
    month,
    customer_id,
    {{ rounded('mrr', 2) }} as mrr,
    {{ rounded('arr', 2) }} as arr,
    {{ rounded('gross_mrr', 2) }} as gross_mrr,
    {{ rounded('discount_mrr', 2) }} as discount_mrr,
    {{ rounded('previous_mrr', 2) }} as previous_mrr,
    {{ rounded('mrr_change', 2) }} as mrr_change,
    movement
from {{ ref('fct_mrr') }}
