"""Stable segment ids: match new centroids to the previous model version's.

Both versions' centroids are compared in ORIGINAL units re-standardised with the NEW
transform parameters, using only the features both versions share, so a change of the
standardisation (new means/stds, a feature newly log-transformed) does not break the match.
A minimum-cost assignment (``scipy.optimize.linear_sum_assignment``) on Euclidean distances
pairs them; pairs further apart than ``threshold`` are not matches. The solver first
maximises the number of pairs within the threshold, then minimises their total distance.

Unmatched new clusters get fresh ids ``max_id_ever_used + 1, + 2, ...``: ids are never
reused, so a retired segment's id never comes back with a different meaning. With no
previous version, ids are 1..k by descending cluster size, ties by the centroid coordinates,
so the same data always gives the same ids.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from segmentation.clustering.transform import TransformParams, transform_values

DEFAULT_ALIGNMENT_THRESHOLD = 1.0


@dataclass(frozen=True)
class Alignment:
    """Result of aligning new clusters to previous segments.

    Attributes:
        mapping: new cluster index -> segment id (int).
        distances: new cluster index -> distance to the matched previous centroid, or None
            for a new segment.
        shared_features: features used for the comparison.
        max_segment_id: highest segment id used so far, including this version.
    """

    mapping: dict[int, int]
    distances: dict[int, float | None]
    shared_features: list[str] = field(default_factory=list)
    max_segment_id: int = 0


def deterministic_order(sizes: np.ndarray, centroids: np.ndarray) -> list[int]:
    """Cluster indices by descending size, ties by the centroid coordinates (lexicographic)."""
    sizes = np.asarray(sizes)
    centroids = np.atleast_2d(np.asarray(centroids, dtype=np.float64))
    keys = [centroids[:, j] for j in reversed(range(centroids.shape[1]))] + [-sizes]
    return [int(i) for i in np.lexsort(keys)]


def align_segments(
    new_centroids_original: np.ndarray,
    new_params: TransformParams,
    new_sizes: np.ndarray,
    previous_centroids_original: np.ndarray | None = None,
    previous_features: Sequence[str] = (),
    previous_ids: Sequence[int] = (),
    max_previous_id: int | None = None,
    threshold: float = DEFAULT_ALIGNMENT_THRESHOLD,
) -> Alignment:
    """Give each new cluster a segment id, reusing the previous version's ids where they match.

    Args:
        new_centroids_original: k x len(new_params.features) new centroids, original units.
        new_params: the new version's transform parameters (the shared space).
        new_sizes: cluster sizes in the sample (for the order of fresh ids).
        previous_centroids_original: m x len(previous_features) previous centroids in original
            units, or None when there is no previous version.
        previous_features: column names of ``previous_centroids_original``.
        previous_ids: segment id of each previous centroid row.
        max_previous_id: highest id ever used before (defaults to max(previous_ids), or 0).
        threshold: maximum Euclidean distance (in the new standardised space) for a match.
    """
    # imported where used: a build that fits no new version does not load SciPy (fit.py)
    from scipy.optimize import linear_sum_assignment
    from scipy.spatial.distance import cdist

    new_original = np.atleast_2d(np.asarray(new_centroids_original, dtype=np.float64))
    k = new_original.shape[0]
    new_std = transform_values(new_original, new_params)
    order = deterministic_order(np.asarray(new_sizes), new_std)
    previous_ids = [int(i) for i in previous_ids]
    if max_previous_id is None:
        max_previous_id = max(previous_ids, default=0)
    max_previous_id = max([int(max_previous_id), *previous_ids])

    mapping: dict[int, int] = {}
    distances: dict[int, float | None] = {}
    shared: list[str] = []
    if previous_centroids_original is not None and len(previous_ids) > 0:
        previous = np.atleast_2d(np.asarray(previous_centroids_original, dtype=np.float64))
        if previous.shape != (len(previous_ids), len(previous_features)):
            raise ValueError("previous centroids do not match previous_features/previous_ids")
        shared = [f for f in new_params.features if f in set(previous_features)]
        if shared:
            new_cols = [new_params.features.index(f) for f in shared]
            prev_cols = [list(previous_features).index(f) for f in shared]
            # Previous centroids (original units) in the new standardised space.
            shared_params = TransformParams(
                tuple(p for p in new_params.params if p.feature in set(shared))
            )
            prev_std = transform_values(previous[:, prev_cols], shared_params)
            cost = cdist(new_std[:, new_cols], prev_std, metric="euclidean")
            too_far = ~(cost <= threshold)
            penalty = 1.0 + float(np.nansum(np.where(too_far, 0.0, cost)))
            rows, cols = linear_sum_assignment(np.where(too_far, penalty * 1e3, cost))
            for r, c in zip(rows, cols, strict=True):
                if not too_far[r, c]:
                    mapping[int(r)] = previous_ids[c]
                    distances[int(r)] = float(cost[r, c])
        else:
            warnings.warn(
                "no features shared with the previous model version; all segments get new ids",
                UserWarning,
                stacklevel=2,
            )
    next_id = max_previous_id
    for index in order:
        if index not in mapping:
            next_id += 1
            mapping[index] = next_id
            distances[index] = None
    return Alignment(
        mapping={i: mapping[i] for i in range(k)},
        distances={i: distances[i] for i in range(k)},
        shared_features=shared,
        max_segment_id=max(next_id, *mapping.values()),
    )
