-- batch_key_window (macros/utils/duplicate_keys.sql): the window of a batch folder's
-- duplicate-key and update rules, for a two-column key.
select
    order_id,
    line_number,
    row_number() over (
        {{ batch_key_window(duplicate_key_rules()['order_items']) }}
    ) as position_in_key
from {{ ref('base_shop__order_items') }}
