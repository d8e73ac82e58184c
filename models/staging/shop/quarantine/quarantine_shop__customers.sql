{{ quarantine_rows('base_shop__customers', 'customers') }}
