"""The report pages of the Power BI project (PBIR), mirroring the HTML report's sections.

Each page is a list of visuals bound to columns and measures of the generated semantic model
by name; ``check_bindings`` (and the tests) verify that every name exists, so a renamed mart
column fails the publish instead of leaving a broken visual.

Schema versions are the ones Power BI Desktop wrote in its PBIR format's first public
releases (report 3.1.0, page 2.0.0, visual container 2.6.0, pages metadata 1.0.0): newer
Desktop versions read them too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SCHEMA_ROOT = "https://developer.microsoft.com/json-schemas/fabric/"
SCHEMAS = {
    "pbip": SCHEMA_ROOT + "pbip/pbipProperties/1.0.0/schema.json",
    "pbir": SCHEMA_ROOT + "item/report/definitionProperties/2.0.0/schema.json",
    "pbism": SCHEMA_ROOT + "item/semanticModel/definitionProperties/1.0.0/schema.json",
    "report": SCHEMA_ROOT + "item/report/definition/report/3.1.0/schema.json",
    "version": SCHEMA_ROOT + "item/report/definition/versionMetadata/1.0.0/schema.json",
    "pages": SCHEMA_ROOT + "item/report/definition/pagesMetadata/1.0.0/schema.json",
    "page": SCHEMA_ROOT + "item/report/definition/page/2.0.0/schema.json",
    "visual": SCHEMA_ROOT + "item/report/definition/visualContainer/2.6.0/schema.json",
}
PAGE_WIDTH = 1280
PAGE_HEIGHT = 720
_AGG_NAMES = {0: "Sum", 1: "Avg", 3: "Min", 4: "Max"}


@dataclass(frozen=True)
class Field:
    """A column, an aggregated column or a measure of the model."""

    table: str
    name: str
    kind: str = "column"  # column | measure | aggregate
    function: int = 0  # for aggregates: 0 sum, 1 average, 3 min, 4 max

    def expression(self) -> dict:
        source = {"Expression": {"SourceRef": {"Entity": self.table}}, "Property": self.name}
        if self.kind == "measure":
            return {"Measure": source}
        if self.kind == "aggregate":
            return {"Aggregation": {"Expression": {"Column": source}, "Function": self.function}}
        return {"Column": source}

    @property
    def query_ref(self) -> str:
        ref = f"{self.table}.{self.name}"
        if self.kind == "aggregate":
            return f"{_AGG_NAMES[self.function]}({ref})"
        return ref

    def projection(self, active: bool | None = None) -> dict:
        projection = {
            "field": self.expression(),
            "queryRef": self.query_ref,
            "nativeQueryRef": self.name,
        }
        if active is not None:
            projection["active"] = active
        return projection


def col(table: str, name: str) -> Field:
    return Field(table, name)


def measure(table: str, name: str) -> Field:
    return Field(table, name, "measure")


def total(table: str, name: str, function: int = 0) -> Field:
    return Field(table, name, "aggregate", function)


def _literal(value: str) -> dict:
    return {"expr": {"Literal": {"Value": value}}}


def _color(value: str) -> dict:
    return {"color": {"Literal": {"Value": f"'{value}'"}}}


def _color_scale(value: Field) -> dict:
    """A diverging background colour scale (blue below 0, red above) on a matrix value."""
    gradient = {
        "min": _color("#2166AC"),
        "mid": {**_color("#F7F7F7"), "value": {"Literal": {"Value": "0D"}}},
        "max": _color("#B2182B"),
        "nullColoringStrategy": {"strategy": {"Literal": {"Value": "'noColor'"}}},
    }
    rule = {"FillRule": {"Input": value.expression(), "FillRule": {"linearGradient3": gradient}}}
    return {
        "properties": {"backColor": {"solid": {"color": {"expr": rule}}}},
        "selector": {
            "data": [{"dataViewWildcard": {"matchingOption": 1}}],
            "metadata": value.query_ref,
        },
    }


@dataclass
class Visual:
    name: str
    visual_type: str
    title: str
    roles: dict[str, list[Field]]
    position: tuple[int, int, int, int]  # x, y, width, height
    sort: tuple[Field, str] | None = None
    color_scale: Field | None = None  # background colour scale on this value (matrix)
    single_select: bool = False  # a slicer that selects one value at a time

    def fields(self) -> list[Field]:
        found = [f for fields in self.roles.values() for f in fields]
        if self.sort:
            found.append(self.sort[0])
        if self.color_scale:
            found.append(self.color_scale)
        return found

    def to_json(self, z: int) -> dict:
        x, y, width, height = self.position
        grouping_roles = {"Category", "Rows", "Columns"}
        query: dict = {
            "queryState": {
                role: {
                    "projections": [
                        f.projection(
                            active=True
                            if role in grouping_roles
                            or (self.visual_type == "slicer" and f.kind == "column")
                            else None
                        )
                        for f in fields
                    ]
                }
                for role, fields in self.roles.items()
            }
        }
        if self.sort:
            query["sortDefinition"] = {
                "sort": [{"field": self.sort[0].expression(), "direction": self.sort[1]}]
            }
        visual: dict = {"visualType": self.visual_type, "query": query}
        if self.color_scale:
            visual["objects"] = {"values": [_color_scale(self.color_scale)]}
        if self.single_select:
            visual["objects"] = {"selection": [{"properties": {"singleSelect": _literal("true")}}]}
        visual["visualContainerObjects"] = {
            "title": [
                {
                    "properties": {
                        "show": _literal("true"),
                        "text": _literal("'" + self.title.replace("'", "''") + "'"),
                    }
                }
            ]
        }
        visual["drillFilterOtherVisuals"] = True
        return {
            "$schema": SCHEMAS["visual"],
            "name": self.name,
            "position": {
                "x": x,
                "y": y,
                "z": z,
                "width": width,
                "height": height,
                "tabOrder": z,
            },
            "visual": visual,
        }


@dataclass
class Page:
    name: str
    display_name: str
    visuals: list[Visual] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "$schema": SCHEMAS["page"],
            "name": self.name,
            "displayName": self.display_name,
            "displayOption": "FitToPage",
            "height": PAGE_HEIGHT,
            "width": PAGE_WIDTH,
        }


def _cards(prefix: str, measures: list[Field], y: int = 20) -> list[Visual]:
    width = (PAGE_WIDTH - 40 - 10 * (len(measures) - 1)) // len(measures)
    return [
        Visual(
            name=f"{prefix}_card_{i}",
            visual_type="card",
            title=m.name,
            roles={"Values": [m]},
            position=(20 + i * (width + 10), y, width, 110),
        )
        for i, m in enumerate(measures)
    ]


SEGMENT = col("dim_segments", "segment_name")
LEFT = (20, 150, 615, 550)
RIGHT = (645, 150, 615, 550)


def pages() -> list[Page]:
    """The report: one page per section of the HTML report."""
    net_sales = measure("fct_orders", "Net Sales")
    revenue = measure("fct_orders", "Net Revenue")
    return [
        Page(
            "overview",
            "Overview",
            _cards(
                "overview",
                [
                    measure("dim_customers", "Customer Count"),
                    measure("dim_customers", "Buyers"),
                    revenue,
                    measure("segment_k_selection", "Chosen k"),
                    measure("segmentation_runs", "Mean Stability"),
                    measure("segmentation_runs", "Cluster Structure"),
                ],
            )
            + [
                Visual(
                    "overview_sizes",
                    "clusteredBarChart",
                    "Customers by segment",
                    {"Category": [SEGMENT], "Y": [measure("dim_segments", "Segment Customers")]},
                    LEFT,
                    sort=(measure("dim_segments", "Segment Customers"), "Descending"),
                ),
                Visual(
                    "overview_revenue",
                    "clusteredBarChart",
                    "Revenue by segment",
                    {"Category": [SEGMENT], "Y": [revenue]},
                    RIGHT,
                    sort=(revenue, "Descending"),
                ),
            ],
        ),
        Page(
            "characteristics",
            "Cluster characteristics",
            [
                Visual(
                    "characteristics_heatmap",
                    "pivotTable",
                    "Standardised deviation from the population (segment x feature)",
                    {
                        "Rows": [col("segment_feature_deviations", "segment_name")],
                        "Columns": [col("segment_feature_deviations", "feature")],
                        "Values": [total("segment_feature_deviations", "standardised_deviation")],
                    },
                    (20, 20, 800, 680),
                    color_scale=total("segment_feature_deviations", "standardised_deviation"),
                ),
                Visual(
                    "characteristics_importance",
                    "clusteredBarChart",
                    "Feature importance (eta squared)",
                    {
                        "Category": [col("segment_feature_importance", "feature")],
                        "Y": [total("segment_feature_importance", "eta_squared")],
                    },
                    (830, 20, 430, 680),
                    sort=(total("segment_feature_importance", "eta_squared"), "Descending"),
                ),
            ],
        ),
        Page(
            "returns",
            "Returns by segment",
            _cards(
                "returns",
                [
                    measure("fct_returns", "Return Rate (units)"),
                    measure("fct_orders", "Return Rate (orders)"),
                    measure("fct_returns", "Return Rate (value)"),
                    measure("fct_returns", "Refunds"),
                ],
            )
            + [
                Visual(
                    "returns_rates",
                    "clusteredBarChart",
                    "Return rates by segment (pooled)",
                    {
                        "Category": [SEGMENT],
                        "Y": [
                            measure("fct_returns", "Return Rate (units)"),
                            measure("fct_orders", "Return Rate (orders)"),
                            measure("fct_returns", "Return Rate (value)"),
                        ],
                    },
                    LEFT,
                ),
                Visual(
                    "returns_reasons",
                    "clusteredBarChart",
                    "Units returned by reason",
                    {
                        "Category": [col("fct_returns", "return_reason")],
                        "Y": [measure("fct_returns", "Units Returned")],
                    },
                    RIGHT,
                    sort=(measure("fct_returns", "Units Returned"), "Descending"),
                ),
            ],
        ),
        Page(
            "value",
            "Customer value",
            _cards(
                "value",
                [
                    revenue,
                    net_sales,
                    measure("fct_orders", "Order Count"),
                    measure("fct_orders", "Average Order Value"),
                ],
            )
            + [
                Visual(
                    "value_aov",
                    "clusteredBarChart",
                    "Average order value by segment",
                    {"Category": [SEGMENT], "Y": [measure("fct_orders", "Average Order Value")]},
                    LEFT,
                ),
                Visual(
                    "value_profiles",
                    "tableEx",
                    "Segment profiles",
                    {
                        "Values": [
                            col("segment_profiles", "segment_name"),
                            col("segment_profiles", "customers"),
                            col("segment_profiles", "revenue"),
                            col("segment_profiles", "revenue_share"),
                            col("segment_profiles", "mean_monetary"),
                            col("segment_profiles", "net_sales_per_order"),
                            col("segment_profiles", "mean_frequency"),
                            col("segment_profiles", "mean_recency_days"),
                        ]
                    },
                    RIGHT,
                ),
            ],
        ),
        Page(
            "trends",
            "Trends by month",
            [
                Visual(
                    "trends_sales",
                    "lineChart",
                    "Net sales by month and segment",
                    {
                        "Category": [col("segment_trends", "month_end_date")],
                        "Y": [total("segment_trends", "net_sales")],
                        "Series": [col("segment_trends", "segment_name")],
                    },
                    (20, 20, 1240, 335),
                    sort=(col("segment_trends", "month_end_date"), "Ascending"),
                ),
                Visual(
                    "trends_customers",
                    "lineChart",
                    "Customers in each segment at each month end (everyone with an order to date)",
                    {
                        "Category": [col("segment_trends", "month_end_date")],
                        "Y": [total("segment_trends", "customers")],
                        "Series": [col("segment_trends", "segment_name")],
                    },
                    (20, 365, 1240, 335),
                    sort=(col("segment_trends", "month_end_date"), "Ascending"),
                ),
            ],
        ),
        Page(
            "migration",
            "Migration",
            [
                Visual(
                    "migration_month",
                    "slicer",
                    "Month end",
                    {"Values": [col("segment_migration", "to_month_end")]},
                    (20, 20, 300, 680),
                    single_select=True,
                ),
                Visual(
                    "migration_matrix",
                    "pivotTable",
                    "Customers by segment at the previous and at this month end (diagonal: "
                    "stayed; latest month end unless one is selected)",
                    {
                        "Rows": [col("segment_migration", "from_segment_name")],
                        "Columns": [col("segment_migration", "to_segment_name")],
                        "Values": [measure("segment_migration", "Migration Customers")],
                    },
                    (330, 20, 930, 680),
                ),
            ],
        ),
        Page(
            "choosing_k",
            "Choosing k",
            _cards(
                "k",
                [
                    measure("segment_k_selection", "Chosen k"),
                    measure("segment_k_selection", "Latest Model Version"),
                ],
            )
            + [
                Visual(
                    "k_elbow",
                    "lineChart",
                    "Elbow: inertia by k (latest model)",
                    {
                        "Category": [col("segment_k_selection", "k")],
                        "Y": [measure("segment_k_selection", "Inertia (latest model)")],
                    },
                    LEFT,
                    sort=(col("segment_k_selection", "k"), "Ascending"),
                ),
                Visual(
                    "k_silhouette",
                    "lineChart",
                    "Silhouette by k (latest model)",
                    {
                        "Category": [col("segment_k_selection", "k")],
                        "Y": [measure("segment_k_selection", "Silhouette (latest model)")],
                    },
                    RIGHT,
                    sort=(col("segment_k_selection", "k"), "Ascending"),
                ),
            ],
        ),
        Page(
            "stability",
            "Stability",
            _cards(
                "stability",
                [
                    measure("segmentation_runs", "Mean Stability"),
                    measure("segmentation_runs", "Max Feature Drift (PSI)"),
                    measure("segmentation_runs", "Cluster Structure"),
                ],
            )
            + [
                Visual(
                    "stability_segments",
                    "clusteredBarChart",
                    "Bootstrap stability by segment (mean Jaccard, latest model)",
                    {
                        "Category": [col("segment_stability", "segment_name")],
                        "Y": [measure("segment_stability", "Mean Jaccard (latest model)")],
                    },
                    LEFT,
                ),
                Visual(
                    "stability_runs",
                    "tableEx",
                    "Builds",
                    {
                        "Values": [
                            col("segmentation_runs", "run_started_at"),
                            col("segmentation_runs", "model_version"),
                            col("segmentation_runs", "refitted"),
                            col("segmentation_runs", "refit_reason"),
                            col("segmentation_runs", "max_psi"),
                            col("segmentation_runs", "cluster_structure"),
                        ]
                    },
                    RIGHT,
                    sort=(col("segmentation_runs", "run_started_at"), "Descending"),
                ),
            ],
        ),
        Page(
            "drilldown",
            "Segment drill-down",
            [
                Visual(
                    "drilldown_segment",
                    "slicer",
                    "Segment",
                    {"Values": [SEGMENT]},
                    (20, 20, 300, 680),
                ),
                *[
                    Visual(
                        f"drilldown_card_{i}",
                        "card",
                        m.name,
                        {"Values": [m]},
                        (330 + i * 315, 20, 305, 110),
                    )
                    for i, m in enumerate(
                        [
                            measure("dim_customers", "Customer Count"),
                            revenue,
                            measure("fct_orders", "Average Order Value"),
                        ]
                    )
                ],
                Visual(
                    "drilldown_customers",
                    "tableEx",
                    "Customers by net revenue (sorted, largest first)",
                    {
                        "Values": [
                            col("dim_customers", "customer_id"),
                            col("dim_customers", "region"),
                            col("customer_rfm", "rfm_segment"),
                            revenue,
                            measure("fct_orders", "Order Count"),
                            measure("fct_returns", "Return Rate (units)"),
                        ]
                    },
                    (330, 150, 930, 550),
                    sort=(revenue, "Descending"),
                ),
            ],
        ),
    ]
