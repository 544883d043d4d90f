{#- Fails for every document in a currency other than the reporting currency whose
    exchange_rate is missing or not positive: without it the document has no reporting-currency
    amount. One row per document (document_type, document_id, detail, currency, exchange_rate,
    reporting_currency), so stored failures list what to fix in Ordway. Rows whose
    `status_column` is in the list var `excluded_statuses_var` are not converted and not
    checked (Draft subscriptions never count as MRR). -#}
{% test carries_an_exchange_rate(
    model,
    document_type,
    id_column,
    detail_column=none,
    status_column=none,
    excluded_statuses_var=none
) %}

select distinct
    '{{ document_type }}' as document_type,
    {{ id_column }} as document_id,
    {{ "cast(" ~ detail_column ~ " as varchar)" if detail_column else "cast(null as varchar)" }} as detail,
    currency,
    exchange_rate,
    {{ reporting_currency() }} as reporting_currency
from {{ model }}
where
    (currency is null or currency <> {{ reporting_currency() }})
    and (exchange_rate is null or exchange_rate <= 0)
    {%- if status_column and excluded_statuses_var %}
        and {{ status_column }} not in {{ sql_string_list(var(excluded_statuses_var)) }}
    {%- endif %}

{% endtest %}
