-- The returns' last rule (several returns of one line above the sold quantity) runs after
-- the duplicate-key rule, so the quarantine reads the base model's final reason.
{{ quarantine_rows('base_shop__returns', 'returns', duplicates_are_the_last_rule=false) }}
