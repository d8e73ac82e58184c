{{ quarantine_rows('base_shop__orders', 'orders') }}
