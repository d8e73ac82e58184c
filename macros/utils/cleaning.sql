{% macro clean_string(column, real_values=[]) -%}
    {#- Text with surrounding whitespace removed (every Unicode space and zero-width character,
        var raw_trim_code_points); empty text and the null tokens (var raw_null_tokens: NULL,
        N/A, \N, ...) become NULL, except the tokens in real_values, which are values in this
        column (country 'NA' is Namibia). src/segmentation/parsing.py builds the same
        expression for `segmentation check`. -#}
    {%- set trimmed = trim_characters('cast(' ~ column ~ ' as ' ~ dbt.type_string() ~ ')') -%}
    {%- set missing = [sql_text_literal('')] -%}
    {%- for token in var('raw_null_tokens') if token not in real_values -%}
        {%- do missing.append(sql_text_literal(token)) -%}
    {%- endfor -%}
    case when {{ trimmed }} not in ({{ missing | join(', ') }}) then {{ trimmed }} end
{%- endmacro %}

{% macro trim_characters(text) -%}
    {#- `text` without the characters of var raw_trim_code_points at either end. Trimming a set
        of characters is far dearer than a plain trim, so a value that is plain ASCII and
        starts and ends with a visible character (almost every value) is taken as it is. -#}
    {%- set characters = [] -%}
    {%- for code in var('raw_trim_code_points') -%}
        {%- do characters.append('chr(' ~ code ~ ')') -%}
    {%- endfor -%}
    case
        when {{ byte_length(text) }} = length({{ text }})
            and left({{ text }}, 1) > ' ' and right({{ text }}, 1) > ' '
            then {{ text }}
        else trim(both {{ characters | join(' || ') }} from {{ text }})
    end
{%- endmacro %}

{% macro byte_length(text) -%}
    {{ return(adapter.dispatch('byte_length', 'segmentation')(text)) }}
{%- endmacro %}

{% macro default__byte_length(text) -%}
    octet_length({{ text }})
{%- endmacro %}

{% macro duckdb__byte_length(text) -%}
    strlen({{ text }})
{%- endmacro %}

{% macro sql_text_literal(value) -%}
    {#- A SQL string literal for `value` (single quotes doubled). -#}
    '{{ value | replace("'", "''") }}'
{%- endmacro %}

{% macro clean_enum(column) -%}
    {#- Normalised enumeration value: trimmed, lower case, spaces to underscores. -#}
    replace(lower({{ clean_string(column) }}), ' ', '_')
{%- endmacro %}

{#-
    The parse_* macros take the raw table's column types (raw_column_types(), a dict column ->
    type; empty = unknown) and use the cheapest correct expression: a native value (Parquet
    integers, decimals, timestamps) is cast directly; text, and any column whose type is
    unknown, goes through clean_string and a try_cast, which accepts every type. Both paths
    give the same value (tests/python/test_build_contract_csv.py builds the same data from CSV
    text and from Parquet); the direct path avoids printing every value as text and parsing it
    back (measured in docs/benchmarks.md).
-#}

{% macro raw_column_types(table_name) -%}
    {#- Column name (lower case) -> DuckDB type (upper case) of raw table `table_name` as
        registered by register_raw_tables. Empty while parsing, and when the relation has no
        readable columns (then every parse_* macro takes the text path). -#}
    {%- set types = {} -%}
    {%- if execute -%}
        {%- for col in adapter.get_columns_in_relation(source('shop', table_name)) -%}
            {%- do types.update({col.name | lower: col.dtype | upper}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{- return(types) -}}
{%- endmacro %}

{% macro raw_type_class(column, types) -%}
    {#- integer | number | timestamp | timestamptz | date | text (text also when unknown). -#}
    {%- set dtype = (types or {}).get(column, 'VARCHAR') -%}
    {%- set base = dtype.split('(')[0] | trim -%}
    {%- if base in ['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT',
                    'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT'] -%}
        {{- return('integer') -}}
    {%- elif base in ['FLOAT', 'DOUBLE', 'DECIMAL', 'REAL', 'NUMERIC'] -%}
        {{- return('number') -}}
    {%- elif base in ['TIMESTAMP', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS',
                      'DATETIME'] -%}
        {{- return('timestamp') -}}
    {%- elif base in ['TIMESTAMP WITH TIME ZONE', 'TIMESTAMPTZ'] -%}
        {{- return('timestamptz') -}}
    {%- elif base == 'DATE' -%}
        {{- return('date') -}}
    {%- endif -%}
    {{- return('text') -}}
{%- endmacro %}

{% macro parse_timestamp(column, types={}) -%}
    {#- UTC timestamp from text or a native value; NULL when unparseable (staging flags it).
        An ISO-8601 offset (+02:00, Z) is converted to UTC; values without one are UTC. -#}
    {{ return(adapter.dispatch('parse_timestamp', 'segmentation')(column, types)) }}
{%- endmacro %}

{% macro default__parse_timestamp(column, types={}) -%}
    {{ dbt.safe_cast(clean_string(column), dbt.type_timestamp()) }}
{%- endmacro %}

{% macro duckdb__parse_timestamp(column, types={}) -%}
    {#- The profile sets the session TimeZone to UTC, so text without an offset is UTC. Text:
        ISO-8601 first, then the strptime formats of var raw_timestamp_formats (those with %z
        carry an offset; the others are UTC). src/segmentation/parsing.py builds the same
        expression for `segmentation check`. -#}
    {%- set kind = raw_type_class(column, types) -%}
    {%- if kind in ['timestamp', 'date'] -%}
        cast({{ column }} as timestamp)
    {%- elif kind == 'timestamptz' -%}
        timezone('UTC', {{ column }})
    {%- else -%}
        {%- set text = clean_string(column) -%}
        {%- set with_offset, without_offset = [], [] -%}
        {%- for fmt in var('raw_timestamp_formats') -%}
            {%- do (with_offset if '%z' in fmt else without_offset).append(sql_text_literal(fmt)) -%}
        {%- endfor -%}
        timezone('UTC', coalesce(
            try_cast({{ text }} as timestamptz)
            {%- if with_offset %},
            try_strptime({{ text }}, [{{ with_offset | join(', ') }}]){% endif %}
            {%- if without_offset %},
            cast(try_strptime({{ text }}, [{{ without_offset | join(', ') }}]) as timestamptz)
            {%- endif %}
        ))
    {%- endif -%}
{%- endmacro %}

{% macro parse_date(column, types={}) -%}
    {%- if raw_type_class(column, types) == 'date' -%}
        {{ column }}
    {%- else -%}
        {{ dbt.safe_cast(clean_string(column), 'date') }}
    {%- endif -%}
{%- endmacro %}

{% macro parse_integer(column, types={}) -%}
    {#- Whole number; text, fractions and overflow give NULL (staging flags it). -#}
    {%- set kind = raw_type_class(column, types) -%}
    {%- if kind == 'integer' -%}
        {{ dbt.safe_cast(column, dbt.type_bigint()) }}
    {%- elif kind == 'number' -%}
        case
            when {{ column }} = floor({{ column }})
                then {{ dbt.safe_cast(column, dbt.type_bigint()) }}
        end
    {%- else -%}
    case
        when {{ dbt.safe_cast(clean_string(column), 'double') }}
            = floor({{ dbt.safe_cast(clean_string(column), 'double') }})
            then {{ dbt.safe_cast(clean_string(column), dbt.type_bigint()) }}
    end
    {%- endif -%}
{%- endmacro %}

{% macro parse_money(column, types={}) -%}
    {%- if raw_type_class(column, types) in ['integer', 'number'] -%}
        {{ dbt.safe_cast(column, type_money()) }}
    {%- else -%}
        {{ dbt.safe_cast(clean_string(column), type_money()) }}
    {%- endif -%}
{%- endmacro %}

{% macro is_unparseable(column, parsed, types={}) -%}
    {#- True when the raw value is present but could not be parsed. -#}
    {%- if raw_type_class(column, types) == 'text' -%}
        ({{ clean_string(column) }} is not null and {{ parsed }} is null)
    {%- else -%}
        ({{ column }} is not null and {{ parsed }} is null)
    {%- endif -%}
{%- endmacro %}

{% macro type_money() -%}
    {#- Money: four decimals, exact. Prices may carry fractions of a cent (e.g. 0.001), so
        line values and totals stay exact; Power BI reads decimal(18,4) as Fixed Decimal. -#}
    decimal(18, 4)
{%- endmacro %}

{% macro safe_divide(numerator, denominator) -%}
    cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0)
{%- endmacro %}

{% macro hash_key(expression) -%}
    {#- One-way hash for personal values and for ids shown in reports. -#}
    {{ dbt.hash(expression) }}
{%- endmacro %}

{% macro sha256_hex(expression) -%}
    {#- SHA-256 of a text, as 64 lower-case hex characters: the format ad platforms'
        customer-match uploads take for a normalised email. -#}
    {{ return(adapter.dispatch('sha256_hex')(expression)) }}
{%- endmacro %}

{% macro default__sha256_hex(expression) -%}
    sha2(cast({{ expression }} as {{ dbt.type_string() }}), 256)
{%- endmacro %}

{% macro duckdb__sha256_hex(expression) -%}
    sha256(cast({{ expression }} as {{ dbt.type_string() }}))
{%- endmacro %}

{% macro raw_columns_as_text(table_name) -%}
    {#- Every contract column of a raw table as text, prefixed raw_, for quarantine rows, then
        the row's identity in the raw files: _source_file, _source_row. -#}
    {%- for col in var('raw_contract')[table_name].columns %}
    cast({{ col }} as {{ dbt.type_string() }}) as raw_{{ col }},
    {%- endfor %}
    _source_file,
    _source_row
{%- endmacro %}
