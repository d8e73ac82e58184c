{% macro duplicate_key_rules() -%}
    {#- Per raw table: its key, the order in which the first valid row of a key is kept (the
        others are rejected with `reason`). The customers' rank reads each row's place among
        its file's rows of the customer, which base_shop__customers sets in position_order_by
        when it reads the file: a kept row keeps no raw text to be ranked by again. One place
        for the base model (which keeps) and
        the quarantine model (which reports the rest). duplicate_key_reason breaks the ties
        that remain (identical rows) by the row's place in the raw files, so the first copy
        in the files is kept. -#}
    {{ return({
        'customers': {
            'key_columns': ['customer_id'],
            'order_by': ['_file_key_position'],
            'position_order_by': [
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

{% macro duplicate_key_reason(table_name, batched=none) -%}
    {#- A row's reject reason after the duplicate-key rule of `table_name`
        (duplicate_key_rules): its own row_reject_reason, or the rule's reason when another
        valid row with the same key comes first in the rule's order within the same raw file
        (the first valid row of each key per file is kept; a key in a later batch file is an
        update, see superseded_by_file). Reads row_reject_reason, the key, the order's
        columns and _source_file / _source_row. batched: whether the table is a batch folder
        (default: raw_table_is_batched). -#}
    {%- set rule = duplicate_key_rules()[table_name] -%}
    {%- if (raw_table_is_batched(table_name) if batched is none else batched) -%}
        {#- the valid rows of a key, latest file first and in the rule's order within a file:
            a row whose predecessor is in the same file is a duplicate in that file -#}
        coalesce(
            row_reject_reason,
            case
                when
                    row_number() over ({{ batch_key_window(rule) }}) > 1
                    and lag(_source_file) over ({{ batch_key_window(rule) }})
                    is not distinct from _source_file
                    then '{{ rule.reason }}'
            end
        )
    {%- else -%}
        coalesce(
            row_reject_reason,
            case
                when row_number() over (
                    partition by {{ rule.key_columns | join(', ') }}, row_reject_reason is null
                    order by {{ rule.order_by | join(', ') }}, _source_file, _source_row
                ) > 1 then '{{ rule.reason }}'
            end
        )
    {%- endif -%}
{%- endmacro %}

{% macro superseded_by_file(table_name, batched=none) -%}
    {#- For a table that arrives as a folder of batch files: the later file whose row of the
        same key replaces this one (an update: an order re-sent as cancelled, a customer whose
        country changed), or null. The latest file that holds a valid row of the key wins;
        the first valid row of the key in each earlier file is superseded (further valid rows
        in that file are duplicates, duplicate_key_reason). Superseded rows are neither kept
        nor quarantined; source reconciliation counts them. Uses the same window as
        duplicate_key_reason, so DuckDB sorts the rows once for both. A table read from one
        file has no updates: null, and no window. batched: as in duplicate_key_reason. -#}
    {%- if (raw_table_is_batched(table_name) if batched is none else batched) -%}
        {%- set window = batch_key_window(duplicate_key_rules()[table_name]) -%}
        case
            when
                row_reject_reason is null
                and (
                    row_number() over ({{ window }}) = 1
                    or lag(_source_file) over ({{ window }}) is distinct from _source_file
                )
                and first_value(_source_file) over ({{ window }}) != _source_file
                then first_value(_source_file) over ({{ window }})
        end
    {%- else -%}
        cast(null as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}

{% macro batch_key_window(rule) -%}
    {#- The window of a batch folder's duplicate-key and update rules: the rows of a key and
        validity, latest file first, in the rule's order within a file. -#}
    {%- set terms = [] -%}
    {%- for term in rule.order_by -%}
        {%- set words = term.split(' ') -%}
        {#- every term with its direction, as the first one (desc) has one -#}
        {%- do terms.append(
            term if 'asc' in words or 'desc' in words
            else ([words[0], 'asc'] + words[1:]) | join(' ')
        ) -%}
    {%- endfor %}
    partition by {{ rule.key_columns | join(', ') }}, row_reject_reason is null
    order by _source_file desc, {{ terms | join(', ') }}, _source_row asc
{%- endmacro %}

{% macro raw_table_is_batched(table_name) -%}
    {#- True when the raw table is a folder of batch files (<raw_path>/<table>/), so that
        its keys may come again in later files (register_raw_tables, find_batch_files).
        False at parse time. -#}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(segmentation.find_batch_files(raw_path(), table_name) is not none) }}
{%- endmacro %}
