"""Clustering logic behind the segmentation marts: transform, k sweep, elbow, fit, stability,
stable ids and naming. The dbt Python models call :func:`fit_segmentation`; everything is
plain functions with pytest tests (dbt cannot unit-test Python models).
"""

from segmentation.clustering.align import Alignment, align_segments, deterministic_order
from segmentation.clustering.elbow import Selection, find_knee, select_k
from segmentation.clustering.fit import assign_labels, fit_kmeans
from segmentation.clustering.naming import base_name, describe, name_segments, unique_names
from segmentation.clustering.pipeline import (
    SegmentationConfig,
    SegmentationResult,
    config_hash,
    fit_segmentation,
)
from segmentation.clustering.sampling import sample_indices
from segmentation.clustering.stability import StabilityResult, bootstrap_stability, verdict
from segmentation.clustering.sweep import k_range, sweep_k
from segmentation.clustering.transform import (
    DroppedFeature,
    FeatureParams,
    TransformParams,
    apply_transform,
    fit_transform_params,
    inverse_transform,
    sql_expression,
    transform_values,
)

__all__ = [
    "Alignment",
    "DroppedFeature",
    "FeatureParams",
    "SegmentationConfig",
    "SegmentationResult",
    "Selection",
    "StabilityResult",
    "TransformParams",
    "align_segments",
    "apply_transform",
    "assign_labels",
    "base_name",
    "bootstrap_stability",
    "config_hash",
    "describe",
    "deterministic_order",
    "find_knee",
    "fit_kmeans",
    "fit_segmentation",
    "fit_transform_params",
    "inverse_transform",
    "k_range",
    "name_segments",
    "sample_indices",
    "select_k",
    "sql_expression",
    "sweep_k",
    "transform_values",
    "unique_names",
    "verdict",
]
