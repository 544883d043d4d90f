{#- fct_arr_movements for people and BI tools: money rounded half away from zero to cents, ratios to 4 decimals;
    the exact values stay in fct_arr_movements. -#}
select
    month,
    {{ rounded('opening_arr', 2) }} as opening_arr,
    {{ rounded('new_arr', 2) }} as new_arr,
    {{ rounded('expansion_arr', 2) }} as expansion_arr,
    {{ rounded('contraction_arr', 2) }} as contraction_arr,
    {{ rounded('churn_arr', 2) }} as churn_arr,
    {{ rounded('reactivation_arr', 2) }} as reactivation_arr,
    {{ rounded('closing_arr', 2) }} as closing_arr,
    active_customers,
    new_customers,
    churned_customers,
    reactivated_customers,
    opening_customers,
    {{ rounded('logo_churn_rate', 4) }} as logo_churn_rate
from {{ ref('fct_arr_movements') }}
