{{ quarantine_rows('base_shop__sessions', 'sessions') }}
