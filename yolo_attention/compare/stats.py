"""Statistics of a comparison: means over seeds, paired t-intervals of the difference to plain, a paired bootstrap."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np

__all__ = ["f_score", "mean_std", "paired_bootstrap", "paired_differences", "significant", "t_interval"]


def _finite(values: Iterable[float | None]) -> np.ndarray:
    """The values as a float array, without the missing ones (None)."""
    return np.asarray([v for v in values if v is not None], dtype=float)


def mean_std(values: Iterable[float | None]) -> tuple[float, float]:
    """The mean and the sample standard deviation (ddof=1) of the values, ignoring None.

    Args:
        values (Iterable[float | None]): One value per seed.

    Returns:
        (tuple[float, float]): ``(mean, std)``; std is nan for a single value, both are nan for none.

    Examples:
        >>> mean, std = mean_std([0.1, 0.2, 0.3])
        >>> round(mean, 6), round(std, 6)
        (0.2, 0.1)
    """
    x = _finite(values)
    if x.size == 0:
        return math.nan, math.nan
    return float(np.mean(x)), float(np.std(x, ddof=1)) if x.size > 1 else math.nan


def t_interval(values: Iterable[float | None], confidence: float = 0.95) -> tuple[float, float, float]:
    """The Student-t confidence interval of the mean of the values (ignoring None).

    Args:
        values (Iterable[float | None]): Independent values, e.g. one paired difference per seed.
        confidence (float): Two-sided confidence level in (0, 1).

    Returns:
        (tuple[float, float, float]): ``(mean, low, high)``; the bounds are nan with fewer than two values.

    Examples:
        >>> [round(v, 6) for v in t_interval([0.1, 0.2, 0.3])]
        [0.2, -0.048414, 0.448414]
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence!r} is not valid: it must be in (0, 1), e.g. 0.95")
    x = _finite(values)
    mean, std = mean_std(x)
    n = x.size
    if n < 2:
        return mean, math.nan, math.nan
    from scipy.stats import t  # scipy.stats loads slowly: only when an interval is asked for

    half = float(t.ppf(0.5 + confidence / 2, df=n - 1)) * std / math.sqrt(n)
    return mean, mean - half, mean + half


def significant(low: float | None, high: float | None) -> bool:
    """Whether an interval excludes 0 (False when a bound is missing or nan).

    Examples:
        >>> significant(0.01, 0.05), significant(-0.01, 0.05), significant(float("nan"), 1.0)
        (True, False, False)
    """
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return False
    return low > 0 or high < 0


def paired_differences(records: Sequence[dict], metric: str, reference: str = "plain") -> dict[str, list[float]]:
    """Per variant, its metric minus the reference's for each seed both have (in increasing seed order).

    Seeds missing on either side, and runs whose metric is missing or None, are skipped.

    Args:
        records (Sequence[dict]): Run records ``{"variant", "seed", "metrics": {metric: value}, ...}``.
        metric (str): A key of the records' ``metrics``, e.g. ``"mAP50"``.
        reference (str): The variant every other one is compared with.

    Returns:
        (dict[str, list[float]]): Every variant but the reference, in the order first seen, with its differences.

    Examples:
        >>> runs = [{"variant": v, "seed": s, "metrics": {"mAP50": m}}
        ...         for v, s, m in [("plain", 0, 0.5), ("plain", 1, 0.6), ("eca", 0, 0.75), ("eca", 2, 0.9)]]
        >>> paired_differences(runs, "mAP50")
        {'eca': [0.25]}
    """
    by_variant: dict[str, dict[int, float]] = {}
    for record in records:
        seeds = by_variant.setdefault(record["variant"], {})
        value = (record.get("metrics") or {}).get(metric)
        if value is not None:
            seeds[record["seed"]] = float(value)
    ref = by_variant.get(reference, {})
    return {
        variant: [seeds[s] - ref[s] for s in sorted(set(seeds) & set(ref))]
        for variant, seeds in by_variant.items()
        if variant != reference
    }


def f_score(counts_sum: Sequence[float]) -> float:
    """The F-score 2tp / (2tp + fp + fn) of summed ``[tp, fp, fn]`` counts; 0 when nothing was counted.

    Examples:
        >>> f_score([8, 2, 2]), f_score([0, 0, 0])
        (0.8, 0.0)
    """
    tp, fp, fn = (float(c) for c in counts_sum[:3])
    denominator = 2 * tp + fp + fn
    return 2 * tp / denominator if denominator else 0.0


def paired_bootstrap(
    a: np.ndarray,
    b: np.ndarray,
    statistic: Callable[[np.ndarray], float] = f_score,
    n_resamples: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float, float]:
    """A paired bootstrap of ``statistic(a) - statistic(b)`` over images: both models see the same resampled images.

    Args:
        a (np.ndarray): Per-image counts ``(n_images, k)`` of the first model, e.g. ``[tp, fp, fn]`` rows.
        b (np.ndarray): The second model's counts on the same images in the same order.
        statistic (Callable): Maps the column sums ``(k,)`` of the counts to a number (default `f_score`).
        n_resamples (int): How many resamples of the images.
        seed (int): Seed of numpy's Generator: the same seed gives the same interval.
        confidence (float): Two-sided level of the percentile interval.

    Returns:
        (tuple[float, float, float]): ``(delta, low, high)``: the difference on all images and its interval.

    Examples:
        >>> a = np.array([[1, 0, 0], [1, 0, 0]])
        >>> paired_bootstrap(a, a.copy(), n_resamples=100)
        (0.0, 0.0, 0.0)
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim != 2 or a.shape != b.shape or a.shape[0] == 0:
        raise ValueError(f"a and b must be (n_images, k) arrays of one shape, n_images > 0; got {a.shape}, {b.shape}")
    if n_resamples < 1 or not 0 < confidence < 1:
        raise ValueError(f"n_resamples={n_resamples!r} must be >= 1 and confidence={confidence!r} in (0, 1)")
    delta = float(statistic(a.sum(0)) - statistic(b.sum(0)))
    rng = np.random.default_rng(seed)
    n, deltas = a.shape[0], []
    chunk = max(1, 4_000_000 // a.size)  # resamples per draw: bounds the (chunk, n_images, k) gather in memory
    for start in range(0, n_resamples, chunk):
        idx = rng.integers(0, n, size=(min(chunk, n_resamples - start), n))
        sums_a, sums_b = a[idx].sum(1), b[idx].sum(1)  # (resamples, k): the same images for both models
        deltas += [statistic(sa) - statistic(sb) for sa, sb in zip(sums_a, sums_b)]
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(deltas, [tail, 100 - tail])
    return delta, float(low), float(high)
