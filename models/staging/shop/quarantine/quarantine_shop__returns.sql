{{ quarantine_rows('base_shop__returns', 'returns') }}
