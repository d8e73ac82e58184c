-- written_by_this_build (macros/raw/applied_files.sql): `true` here (an analysis builds no
-- model); in a build that also builds the parent, its rows of this build
select count(*) as month_end_rows
from {{ ref('int_customer_features_monthly') }}
where {{ written_by_this_build('int_customer_features_monthly') }}
