{% macro quarantine_rows(base_model, table_name, duplicates_are_the_last_rule=true) -%}
    {#- Rejected rows of a raw table: every raw column as text, the reason, the file.

        When the duplicate-key rule is the base model's last rule (every table but returns),
        the duplicate-key window runs only on the rows whose key is duplicated: the base
        model's row-level reasons are read without its window (a query that does not select
        the final reason does not compute it), the keys held by more than one valid row are
        found by a group-by on the key alone, and only those rows, few in practice, are
        ranked with their raw text. Same rows and reasons as `reject_reason is not null` on
        the base model, without sorting every raw row's text (which spilled tens of GB in
        the 10M-customer build). -#}
    {%- set raw_columns = var('raw_contract')[table_name].columns %}
    {%- set raw_text_names = [] %}
    {%- for col in raw_columns %}{% do raw_text_names.append('raw_' ~ col) %}{% endfor %}
    {%- do raw_text_names.append('_source_file') %}
    {%- set raw_text_columns = '\n        ' ~ raw_text_names | join(',\n        ') %}
    {%- if duplicates_are_the_last_rule %}
        {%- set rule = duplicate_key_rules()[table_name] %}
with

duplicated_keys as (
    -- keys held by more than one valid row (the group-by reads the keys only)
    select {{ rule.key_columns | join(', ') }}
    from {{ ref(base_model) }}
    where row_reject_reason is null
    group by {{ rule.key_columns | join(', ') }}
    having count(*) > 1
),

rows_with_duplicated_keys as (
    -- the valid rows of those keys, with their raw text, to be ranked
    select base.* exclude (reject_reason)
    from {{ ref(base_model) }} as base
    inner join duplicated_keys
        on
        {%- for key in rule.key_columns %}
            {% if not loop.first %}and {% endif -%}
            base.{{ key }} = duplicated_keys.{{ key }}
        {%- endfor %}
    where base.row_reject_reason is null
),

duplicates as (
    {{ reject_duplicates(table_name, 'rows_with_duplicated_keys') }}
),

rejected as (
    select
        row_reject_reason as reject_reason,
        {{- raw_text_columns }}
    -- the base model's final reason (and its window) is not read here
    from {{ ref(base_model) }}
    where row_reject_reason is not null
    union all
    select
        reject_reason,
        {{- raw_text_columns }}
    from duplicates
    where reject_reason is not null
),
    {%- else %}
with

rejected as (
    select
        reject_reason,
        {{- raw_text_columns }}
    from {{ ref(base_model) }}
    where reject_reason is not null
),
    {%- endif %}

final as (
    select
        '{{ table_name }}' as source_table,
        reject_reason,
        {{- raw_text_columns }} as source_file
    from rejected
)

select * from final
{%- endmacro %}

{% macro age_band(birth_date, as_of) -%}
    {#- Age band at the analysis date (full years, 365.25-day years); birth dates in the future
        or more than 120 years back are treated as missing. -#}
    {%- set age = "floor(" ~ dbt.datediff(birth_date, as_of, 'day') ~ " / 365.25)" -%}
    case
        when {{ birth_date }} is null or {{ birth_date }} > {{ as_of }} then null
        when {{ age }} > 120 then null
        when {{ age }} < 18 then 'under 18'
        when {{ age }} < 25 then '18-24'
        when {{ age }} < 35 then '25-34'
        when {{ age }} < 45 then '35-44'
        when {{ age }} < 55 then '45-54'
        when {{ age }} < 65 then '55-64'
        else '65+'
    end
{%- endmacro %}

{% macro reject_duplicate_keys(relation, key_columns, order_by, reason,
                               output_column='reject_reason') -%}
    {#- Every row of `relation` with its reject reason (`output_column`): its own
        row_reject_reason, or `reason` when another valid row with the same key comes first
        in the `order_by` list (the first valid row of each key is kept, deterministically). -#}
    select
        *,
        coalesce(
            row_reject_reason,
            case
                when row_number() over (
                    partition by {{ key_columns | join(', ') }}, row_reject_reason is null
                    order by {{ order_by | join(', ') }}
                ) > 1 then '{{ reason }}'
            end
        ) as {{ output_column }}
    from {{ relation }}
{%- endmacro %}

{% macro duplicate_key_rules() -%}
    {#- Per raw table: its key, the order in which the first valid row of a key is kept (the
        others are rejected with `reason`). One place for the base model (which keeps) and
        the quarantine model (which reports the rest). Every order ends in enough columns to
        make the choice deterministic. -#}
    {{ return({
        'customers': {
            'key_columns': ['customer_id'],
            'order_by': [
                'signup_at asc nulls last',
                'email_normalized asc nulls last',
                'raw_first_name asc',
                'raw_last_name asc',
                'raw_birth_date asc',
                'raw_gender asc',
                'raw_country asc',
                'raw_acquisition_channel asc',
                'raw_signup_at asc',
                'raw_email asc',
            ],
            'reason': 'duplicate_customer_id',
        },
        'products': {
            'key_columns': ['product_id'],
            'order_by': ['product_name nulls last', 'category nulls last', 'list_price nulls last'],
            'reason': 'duplicate_product_id',
        },
        'orders': {
            'key_columns': ['order_id'],
            'order_by': [
                'ordered_at', 'customer_id', 'status', 'sales_channel nulls last', 'raw_ordered_at',
            ],
            'reason': 'duplicate_order_id',
        },
        'order_items': {
            'key_columns': ['order_id', 'line_number'],
            'order_by': ['product_id nulls last', 'quantity', 'unit_price', 'discount_amount'],
            'reason': 'duplicate_order_line',
        },
        'sessions': {
            'key_columns': ['session_id'],
            'order_by': [
                'started_at', 'customer_id nulls last', 'page_views', 'product_views', 'cart_adds',
            ],
            'reason': 'duplicate_session_id',
        },
        'returns': {
            'key_columns': ['return_id'],
            'order_by': ['returned_at', 'order_id', 'line_number', 'quantity', 'raw_refund_amount'],
            'reason': 'duplicate_return_id',
        },
    }) }}
{%- endmacro %}

{% macro reject_duplicates(table_name, relation, output_column='reject_reason') -%}
    {#- reject_duplicate_keys with the table's rule from duplicate_key_rules. -#}
    {%- set rule = duplicate_key_rules()[table_name] -%}
    {{ reject_duplicate_keys(relation, rule.key_columns, rule.order_by, rule.reason, output_column) }}
{%- endmacro %}
