{{ quarantine_rows('base_shop__order_items', 'order_items') }}
