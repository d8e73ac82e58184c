{{ quarantine_rows('base_shop__products', 'products') }}
