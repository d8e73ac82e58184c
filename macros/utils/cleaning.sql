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

{% macro clean_text_to_parse(column, types={}) -%}
    {#- The cleaned text (clean_string) of a raw column that parse_integer, parse_money,
        parse_timestamp and is_unparseable read: null when the file gives the column a
        number, timestamp or date type, since they read the typed value then. Not for
        parse_date (it reads the text of a timestamp). An unread cleaned column still costs
        DuckDB a join per row (the null tokens' list), so the base models do not compute it. -#}
    {%- if raw_type_class(column, types) != 'text' -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        {{ clean_string(column) }}
    {%- endif -%}
{%- endmacro %}

{% macro trim_characters(text) -%}
    {#- `text` without the characters of var raw_trim_code_points at either end. -#}
    {{ return(adapter.dispatch('trim_characters', 'segmentation')(text)) }}
{%- endmacro %}

{% macro default__trim_characters(text) -%}
    {#- Trimming a set of characters is far dearer than a plain trim in DuckDB, so a value
        that is plain ASCII and starts and ends with a visible character (almost every
        value) is taken as it is; the rest loses the set's characters at either end through
        one regular expression, written as one literal (trim_pattern) so that a cleaned
        column stays a short expression. -#}
    case
        when {{ byte_length(text) }} = length({{ text }})
            and left({{ text }}, 1) > ' ' and right({{ text }}, 1) > ' '
            then {{ text }}
        else regexp_replace({{ text }}, {{ trim_pattern(var('raw_trim_code_points')) }}, '', 'g')
    end
{%- endmacro %}

{% macro spark__trim_characters(text) -%}
    {#- One trim: `text` is written once, so that the expression stays short (a view's text
        is stored in the metastore, which limits its length) -#}
    trim(both {{ spark_code_point_literal(var('raw_trim_code_points')) }} from {{ text }})
{%- endmacro %}

{% macro trim_pattern(codes) -%}
    {#- A regular expression (RE2 / Java syntax) that matches a run of the characters with
        these Unicode code points at the start or at the end of a text: every character as a
        \x{hex} escape, so that none has a meaning of its own in the class. -#}
    {%- set escapes = [] -%}
    {%- for code in codes -%}
        {%- do escapes.append('\\x{' ~ '%x' | format(code) ~ '}') -%}
    {%- endfor -%}
    {%- set class = '[' ~ escapes | join('') ~ ']' -%}
    '^{{ class }}+|{{ class }}+$'
{%- endmacro %}

{% macro spark_code_point_literal(codes) -%}
    {#- Spark's chr() takes the code modulo 256, so the characters are written as \uXXXX
        escapes in one literal -#}
    {%- set escapes = [] -%}
    {%- for code in codes -%}
        {%- if code > 65535 -%}
            {{ exceptions.raise_compiler_error(
                "code point " ~ code ~ " is above U+FFFF, which a Spark literal cannot escape"
            ) }}
        {%- endif -%}
        {%- do escapes.append('\\u' ~ '%04x' | format(code)) -%}
    {%- endfor -%}
    '{{ escapes | join('') }}'
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
    {#- A SQL string literal for `value`. -#}
    {{ return(adapter.dispatch('sql_text_literal', 'segmentation')(value)) }}
{%- endmacro %}

{% macro default__sql_text_literal(value) -%}
    {#- single quotes doubled -#}
    {{ return("'" ~ value | replace("'", "''") ~ "'") }}
{%- endmacro %}

{% macro spark__sql_text_literal(value) -%}
    {#- Spark escapes with a backslash (two quotes in a row would end one literal and start
        the next, which Spark concatenates: the quote would be lost) -#}
    {{ return("'" ~ value | replace("\\", "\\\\") | replace("'", "\\'") ~ "'") }}
{%- endmacro %}

{% macro clean_enum(column, cleaned=none) -%}
    {#- Normalised enumeration value: trimmed, lower case, spaces to underscores. `cleaned`:
        the column already through clean_string (a column of an earlier step), if there is
        one. -#}
    replace(lower({{ cleaned or clean_string(column) }}), ' ', '_')
{%- endmacro %}

{#-
    The parse_* macros take the raw table's column types (raw_column_types(), a dict column ->
    type; empty = unknown) and use the cheapest correct expression: a native value (Parquet
    integers, decimals, timestamps) is cast directly; text, and any column whose type is
    unknown, goes through clean_string and a try_cast, which accepts every type. Both paths
    give the same value (tests/python/test_build_contract_csv.py builds the same data from CSV
    text and from Parquet); the direct path avoids printing every value as text and parsing it
    back (measured in docs/benchmarks.md).
    Each takes `cleaned`: the column already through clean_string, as a column of an earlier
    step (a base model's `cleaned` CTE), so that the text path reads it instead of cleaning
    the value again; without it the macro cleans the column itself.
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
    {%- if base in ['TINYINT', 'SMALLINT', 'INTEGER', 'INT', 'BIGINT', 'HUGEINT', 'UTINYINT',
                    'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT', 'LONG', 'SHORT',
                    'BYTE'] -%}
        {{- return('integer') -}}
    {%- elif base in ['FLOAT', 'DOUBLE', 'DECIMAL', 'REAL', 'NUMERIC'] -%}
        {{- return('number') -}}
    {%- elif base in ['TIMESTAMP', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS',
                      'DATETIME', 'TIMESTAMP_NTZ', 'TIMESTAMP_LTZ'] -%}
        {{- return('timestamp') -}}
    {%- elif base in ['TIMESTAMP WITH TIME ZONE', 'TIMESTAMPTZ'] -%}
        {{- return('timestamptz') -}}
    {%- elif base == 'DATE' -%}
        {{- return('date') -}}
    {%- endif -%}
    {{- return('text') -}}
{%- endmacro %}

{% macro parse_timestamp(column, types={}, cleaned=none) -%}
    {#- UTC timestamp from text or a native value; NULL when unparseable (staging flags it).
        An ISO-8601 offset (+02:00, Z) is converted to UTC; values without one are UTC. -#}
    {{ return(adapter.dispatch('parse_timestamp', 'segmentation')(column, types, cleaned)) }}
{%- endmacro %}

{% macro default__parse_timestamp(column, types={}, cleaned=none) -%}
    {%- if raw_type_class(column, types) in ['timestamp', 'timestamptz', 'date'] -%}
        cast({{ column }} as {{ dbt.type_timestamp() }})
    {%- else -%}
        {{ dbt.safe_cast(cleaned or clean_string(column), dbt.type_timestamp()) }}
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__parse_timestamp(column, types={}, cleaned=none) -%}
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
        {%- set text = cleaned or clean_string(column) -%}
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

{% macro spark__parse_timestamp(column, types={}, cleaned=none) -%}
    {#- As on DuckDB: ISO-8601 first (Spark's cast reads the T, Z and +hh:mm offsets; the
        session time zone is UTC), then the formats of var raw_timestamp_formats, written as
        Spark datetime patterns (spark_datetime_patterns; %z in three offset forms).
        Unparseable text is NULL (the profile sets spark.sql.legacy.timeParserPolicy to
        CORRECTED, so no value raises). -#}
    {%- set kind = raw_type_class(column, types) -%}
    {%- if kind in ['timestamp', 'timestamptz', 'date'] -%}
        cast({{ column }} as timestamp)
    {%- else -%}
        {#- the cleaned text is bound once to a lambda's variable, so that the expression
            does not repeat it for every pattern -#}
        transform(array({{ cleaned or clean_string(column) }}), timestamp_text -> coalesce(
            cast(timestamp_text as timestamp)
            {%- for fmt in var('raw_timestamp_formats') -%}
                {%- for pattern in spark_datetime_patterns(fmt) %},
            to_timestamp(timestamp_text, {{ sql_text_literal(pattern) }})
                {%- endfor -%}
            {%- endfor %}
        ))[0]
    {%- endif -%}
{%- endmacro %}

{% macro spark_datetime_patterns(strptime_format) -%}
    {#- A strptime format (%Y %m %d %H %I %M %S %f %p %z and literal text) as the Spark
        datetime patterns that read the same text: one per offset form when it has %z
        (+hh:mm or Z, +hhmm, +hh). -#}
    {%- set codes = {
        'Y': 'yyyy', 'm': 'MM', 'd': 'dd', 'H': 'HH', 'I': 'hh', 'M': 'mm', 'S': 'ss',
        'f': 'SSSSSS', 'p': 'a', 'z': '<offset>',
    } -%}
    {%- set state = namespace(pattern='', percent=false) -%}
    {%- for character in strptime_format -%}
        {%- if state.percent -%}
            {%- if character not in codes -%}
                {{ exceptions.raise_compiler_error(
                    "raw_timestamp_formats: %" ~ character ~ " in '" ~ strptime_format
                    ~ "' has no Spark pattern here (spark_datetime_patterns)"
                ) }}
            {%- endif -%}
            {%- set state.pattern = state.pattern ~ codes[character] -%}
            {%- set state.percent = false -%}
        {%- elif character == '%' -%}
            {%- set state.percent = true -%}
        {%- elif character.isalpha() -%}
            {%- set state.pattern = state.pattern ~ "'" ~ character ~ "'" -%}
        {%- else -%}
            {%- set state.pattern = state.pattern ~ character -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if '<offset>' in state.pattern -%}
        {{ return([
            state.pattern | replace('<offset>', 'XXX'),
            state.pattern | replace('<offset>', 'XX'),
            state.pattern | replace('<offset>', 'X'),
        ]) }}
    {%- endif -%}
    {{ return([state.pattern]) }}
{%- endmacro %}

{% macro parse_date(column, types={}, cleaned=none) -%}
    {%- if raw_type_class(column, types) == 'date' -%}
        {{ column }}
    {%- else -%}
        {{ dbt.safe_cast(cleaned or clean_string(column), 'date') }}
    {%- endif -%}
{%- endmacro %}

{% macro parse_integer(column, types={}, cleaned=none) -%}
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
        {%- set text = cleaned or clean_string(column) -%}
    case
        when {{ dbt.safe_cast(text, 'double') }} = floor({{ dbt.safe_cast(text, 'double') }})
            then {{ dbt.safe_cast(text, dbt.type_bigint()) }}
    end
    {%- endif -%}
{%- endmacro %}

{% macro parse_money(column, types={}, cleaned=none) -%}
    {%- if raw_type_class(column, types) in ['integer', 'number'] -%}
        {{ dbt.safe_cast(column, type_money()) }}
    {%- else -%}
        {{ dbt.safe_cast(cleaned or clean_string(column), type_money()) }}
    {%- endif -%}
{%- endmacro %}

{% macro is_unparseable(column, parsed, types={}, cleaned=none) -%}
    {#- True when the raw value is present but could not be parsed (`parsed`: the parse_*
        expression of the column). -#}
    {%- if raw_type_class(column, types) == 'text' -%}
        ({{ cleaned or clean_string(column) }} is not null and {{ parsed }} is null)
    {%- else -%}
        ({{ column }} is not null and {{ parsed }} is null)
    {%- endif -%}
{%- endmacro %}

{% macro type_money() -%}
    {#- Money: four decimals, exact. Prices may carry fractions of a cent (e.g. 0.001), so
        line values and totals stay exact; Power BI reads decimal(18,4) as Fixed Decimal. -#}
    decimal(18, 4)
{%- endmacro %}

{% macro money_share(amount, numerator, denominator) -%}
    {#- amount x numerator / denominator rounded half up to the cent, exactly on every engine
        (DuckDB divides decimals as doubles, Spark exactly: 54.23 / 2 would round to 27.11 on
        one and 27.12 on the other). For a non-negative amount (decimal, at most four
        places) and positive integers. Integer arithmetic in ten-thousandths of the unit. -#}
    cast({{ integer_divide(
        'cast((' ~ amount ~ ') * 10000 as bigint) * (' ~ numerator ~ ') + 50 * (' ~ denominator ~ ')',
        '100 * (' ~ denominator ~ ')'
    ) }} as decimal(18, 2)) * 0.01
{%- endmacro %}

{% macro integer_divide(numerator, denominator) -%}
    {#- Integer division of non-negative integers (the quotient rounded down). -#}
    {{ return(adapter.dispatch('integer_divide', 'segmentation')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__integer_divide(numerator, denominator) -%}
    cast(floor(({{ numerator }}) / ({{ denominator }})) as bigint)
{%- endmacro %}

{% macro duckdb__integer_divide(numerator, denominator) -%}
    (({{ numerator }}) // ({{ denominator }}))
{%- endmacro %}

{% macro spark__integer_divide(numerator, denominator) -%}
    (({{ numerator }}) div ({{ denominator }}))
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

{% macro raw_columns(table_name, as_text) -%}
    {#- Every contract column of a raw table, prefixed raw_ (the quarantine's original values),
        then the row's identity in the raw files: _source_file, _source_row. as_text: cast to
        text here; otherwise the values stay as the file types them until raw_text_where casts
        the rows that keep them (a build from every file then carries no text of the kept
        rows through its steps). -#}
    {%- for col in var('raw_contract')[table_name].columns %}
    {%- if as_text %}
    cast({{ col }} as {{ dbt.type_string() }}) as raw_{{ col }},
    {%- else %}
    {{ col }} as raw_{{ col }},
    {%- endif %}
    {%- endfor %}
    _source_file,
    _source_row
{%- endmacro %}

{% macro raw_text_column_names(table_name) -%}
    {#- The names of the raw_ columns of a raw table's contract (raw_columns), as a list. -#}
    {%- set names = [] %}
    {%- for col in var('raw_contract')[table_name].columns %}
        {%- do names.append('raw_' ~ col) %}
    {%- endfor %}
    {{- return(names) }}
{%- endmacro %}

{% macro raw_text_where(table_name, condition) -%}
    {#- The raw_ columns of a raw table's contract (raw_columns) as text where condition
        holds, null elsewhere: the base tables keep the raw text only on the rows the
        quarantine shows or may come to show. -#}
    {%- for col in var('raw_contract')[table_name].columns %}
    case
        when {{ condition }} then cast(raw_{{ col }} as {{ dbt.type_string() }})
    end as raw_{{ col }}
    {%- if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}

{% macro iso_day_of_week(date_expr) -%}
    {#- The ISO day of the week of a date: 1 = Monday ... 7 = Sunday (dispatched). -#}
    {{- return(adapter.dispatch('iso_day_of_week')(date_expr)) -}}
{%- endmacro %}

{% macro default__iso_day_of_week(date_expr) -%}
    cast(extract(isodow from {{ date_expr }}) as integer)
{%- endmacro %}

{% macro spark__iso_day_of_week(date_expr) -%}
    (weekday({{ date_expr }}) + 1)
{%- endmacro %}

{% macro days_between(start_expr, end_expr) -%}
    {#- Whole days from one date or timestamp to another (dbt.datediff), as bigint on every
        engine (DuckDB gives bigint, Spark int). -#}
    cast({{ dbt.datediff(start_expr, end_expr, 'day') | trim }} as bigint)
{%- endmacro %}
