"""Customer segmentation inside the database: the Python side of the dbt project.

The package holds everything dbt cannot do in SQL: the demo data generator, the clustering
logic called by the thin dbt Python models, importers for public data sets, preflight checks,
publishing for BI and the offline report.
"""

__version__ = "0.1.0"
