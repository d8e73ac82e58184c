-- parse_timestamp (macros/utils/cleaning.sql): from text and from each native type.
select
    {{ parse_timestamp('ordered_at') }} as from_text,
    {{ parse_timestamp('ordered_at', {'ordered_at': 'TIMESTAMP'}) }} as from_timestamp,
    {{ parse_timestamp('ordered_at', {'ordered_at': 'TIMESTAMP WITH TIME ZONE'}) }}
        as from_timestamptz,
    {{ parse_timestamp('ordered_at', {'ordered_at': 'DATE'}) }} as from_date
from {{ source('shop', 'orders') }}
