"""Tests of the clusterboot-style bootstrap stability."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from segmentation.clustering import bootstrap_stability, fit_kmeans, verdict


def test_separated_blobs_are_highly_stable() -> None:
    X, _ = make_blobs(
        n_samples=1500,
        centers=4,
        n_features=3,
        cluster_std=0.8,
        random_state=2,
        center_box=(-20, 20),
    )
    labels = fit_kmeans(X, 4, seed=0).labels_
    result = bootstrap_stability(X, labels, 4, bootstrap=15, seed=0)
    assert result.mean_jaccard.shape == (4,)
    assert np.all(result.mean_jaccard > 0.95)
    assert result.mean_ari > 0.95
    assert result.bootstrap_resamples == 15
    assert {verdict(v) for v in result.mean_jaccard} == {"highly stable"}
    assert result.dissolved.tolist() == [0, 0, 0, 0]


def test_uniform_noise_is_unstable() -> None:
    X = np.random.default_rng(0).uniform(size=(1500, 6))
    labels = fit_kmeans(X, 5, seed=0).labels_
    result = bootstrap_stability(X, labels, 5, bootstrap=15, seed=0)
    assert result.mean_jaccard.mean() < 0.6
    assert result.mean_ari < 0.6
    assert "highly stable" not in {verdict(v) for v in result.mean_jaccard}


def test_row_cap_and_determinism() -> None:
    X, _ = make_blobs(n_samples=3000, centers=3, random_state=0)
    labels = fit_kmeans(X, 3, seed=0).labels_
    first = bootstrap_stability(X, labels, 3, bootstrap=5, seed=1, max_rows=500)
    again = bootstrap_stability(X, labels, 3, bootstrap=5, seed=1, max_rows=500)
    assert first.rows_used == 500
    np.testing.assert_array_equal(first.mean_jaccard, again.mean_jaccard)
    assert first.mean_ari == again.mean_ari


def test_a_cluster_missing_from_a_resample_counts_as_dissolved() -> None:
    # one cluster of a single point: about 37% of resamples (1 - 1/n)^n do not draw it, and
    # there it scores 0 (dissolved), not skipped; where it is drawn it is its own cluster
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 0.5, (300, 2)), rng.normal(20, 0.5, (300, 2)), [[100.0, 100.0]]])
    labels = np.array([0] * 300 + [1] * 300 + [2])
    result = bootstrap_stability(X, labels, 3, bootstrap=40, seed=3)
    assert 8 <= result.dissolved[2] <= 24  # about 0.37 x 40 = 15
    assert result.mean_jaccard[2] == pytest.approx(1 - result.dissolved[2] / 40)


def test_refits_run_on_the_distinct_points(monkeypatch: pytest.MonkeyPatch) -> None:
    from segmentation.clustering import stability

    fitted_rows: list[np.ndarray] = []
    real = stability.make_kmeans

    def spy(k: int, seed: int, n_init: int):
        model = real(k, seed, n_init)
        fit = model.fit

        def recording_fit(X, *args, **kwargs):
            fitted_rows.append(np.asarray(X))
            return fit(X, *args, **kwargs)

        model.fit = recording_fit
        return model

    monkeypatch.setattr(stability, "make_kmeans", spy)
    X = np.arange(200, dtype=np.float64).reshape(100, 2)
    bootstrap_stability(X, np.repeat([0, 1], 50), 2, bootstrap=3, seed=0)
    assert len(fitted_rows) == 3
    for rows in fitted_rows:
        assert len(np.unique(rows, axis=0)) == len(rows) < 100  # no point twice


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.9, "highly stable"),
        (0.85, "highly stable"),
        (0.8, "stable"),
        (0.75, "stable"),
        (0.6, "doubtful"),
        (0.59, "unstable"),
        (float("nan"), "unknown"),
    ],
)
def test_verdicts(value: float, expected: str) -> None:
    assert verdict(value) == expected
