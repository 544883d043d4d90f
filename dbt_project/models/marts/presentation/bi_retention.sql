{#- fct_retention for people and BI tools: money rounded half away from zero to cents, ratios to 4 decimals;
    the exact values stay in fct_retention. -#}
select
    month,
    {{ rounded('cohort_arr', 2) }} as cohort_arr,
    {{ rounded('nrr', 4) }} as nrr,
    {{ rounded('grr', 4) }} as grr,
    {{ rounded('cohort_arr_now', 2) }} as cohort_arr_now,
    {{ rounded('cohort_arr_kept', 2) }} as cohort_arr_kept
from {{ ref('fct_retention') }}
