"""Two models timed in interleaved blocks, and their latency ratio with a confidence interval over the blocks.

A shared machine has slow and fast periods (other processes, frequency scaling) that last longer than one inference.
Timing the models in alternating blocks (A B, B A, A B, ...) puts each period on both, and the ratio of their medians
*within one block* is paired: a slow period divides out. The blocks' ratios are then independent samples of the latency
ratio; their mean has a Student-t confidence interval, whose half-width says whether enough runs were made. (A median
of 30 unpaired runs is noise at the 1 % level: one such run of the same build gave ECA 1.024 and CBAM 0.993.)
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = [
    "MIN_BLOCKS",
    "MIN_BLOCK_RUNS",
    "MIN_RUNS",
    "LatencyRatio",
    "ratio_interval",
    "time_blocks",
    "time_interleaved",
    "time_paired",
]

MIN_RUNS = 30
"""Fewest timed runs per model for a median worth reporting."""

MIN_BLOCKS = 5
"""Fewest blocks for a latency ratio's t-interval worth reporting (t = 2.78 at 5 blocks, 12.7 at 2)."""

MIN_BLOCK_RUNS = 3
"""Fewest runs per block: the median of three already ignores one interrupted run."""

EXTEND_FACTOR = 5
"""With a target half-width, at most this many times `runs` are timed per model."""


@dataclass(frozen=True)
class LatencyRatio:
    """Latency ratio attention / baseline from paired blocks: the mean of the blocks' ratios and its t-interval.

    Attributes:
        mean (float): Mean over blocks of median(attention) / median(baseline) within the block.
        low (float): Lower bound of the confidence interval (nan with one block).
        high (float): Upper bound.
        blocks (int): Number of blocks.
        confidence (float): Two-sided confidence level of [low, high].
        block_ratios (tuple[float, ...]): Each block's ratio, in timing order.
    """

    mean: float
    low: float
    high: float
    blocks: int
    confidence: float = 0.95
    block_ratios: tuple[float, ...] = ()

    @property
    def halfwidth(self) -> float:
        """(float): Half the interval's width (nan with one block)."""
        return (self.high - self.low) / 2

    def text(self) -> str:
        """Return the ratio and its interval in one short phrase.

        Examples:
            >>> LatencyRatio(1.0123, 1.0081, 1.0165, 20).text()
            '1.012 [1.008, 1.016] (±0.0042, 20 blocks)'
        """
        return f"{self.mean:.3f} [{self.low:.3f}, {self.high:.3f}] (±{self.halfwidth:.4f}, {self.blocks} blocks)"


def ratio_interval(
    attention: Sequence[Sequence[float]], baseline: Sequence[Sequence[float]], confidence: float = 0.95
) -> LatencyRatio:
    """Return the paired latency ratio of two models timed in the same blocks, with its Student-t interval.

    Each block gives median(attention block) / median(baseline block); the interval is the t-interval of the mean of
    these ratios over the blocks (n - 1 degrees of freedom).

    Args:
        attention (Sequence[Sequence[float]]): The attention model's latencies, one list per block.
        baseline (Sequence[Sequence[float]]): The baseline's latencies in the same blocks.
        confidence (float): Two-sided confidence level in (0, 1).

    Returns:
        (LatencyRatio): The mean ratio and its interval.

    Examples:
        >>> r = ratio_interval([[11, 11], [12, 12], [10, 10], [13, 13]], [[10, 10]] * 4)
        >>> round(r.mean, 4), round(r.halfwidth, 4)
        (1.15, 0.2054)
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), e.g. 0.95, got {confidence!r}")
    if len(attention) != len(baseline) or not attention:
        raise ValueError(f"need as many blocks (>= 1) for both models, got {len(attention)} and {len(baseline)}")
    ratios = tuple(statistics.median(a) / statistics.median(b) for a, b in zip(attention, baseline))
    n = len(ratios)
    mean = statistics.fmean(ratios)
    if n < 2:
        return LatencyRatio(mean, math.nan, math.nan, n, confidence, ratios)
    from scipy.stats import t  # scipy.stats loads slowly: only when an interval is computed

    half = float(t.ppf(0.5 + confidence / 2, df=n - 1)) * statistics.stdev(ratios) / math.sqrt(n)
    return LatencyRatio(mean, mean - half, mean + half, n, confidence, ratios)


def _check_runs(runs: int) -> None:
    if not isinstance(runs, int) or isinstance(runs, bool) or runs < MIN_RUNS:
        raise ValueError(f"runs must be an int >= {MIN_RUNS} for a median worth reporting, got {runs!r}")


def _block_sizes(runs: int, blocks: int) -> list[int]:
    """Runs per block: `runs` split over at most `blocks` blocks of at least `MIN_BLOCK_RUNS` each."""
    blocks = max(1, min(blocks, runs // MIN_BLOCK_RUNS))
    return [runs // blocks + (1 if b < runs % blocks else 0) for b in range(blocks)]


def _time_block(runners: Sequence[Callable[[], object]], n: int, reverse: bool) -> list[list[float]]:
    """Run each runner `n` times in turn (last first when `reverse`); return each one's latencies (ms)."""
    times: list[list[float]] = [[] for _ in runners]
    for i in reversed(range(len(runners))) if reverse else range(len(runners)):
        run = runners[i]
        for _ in range(n):
            start = time.perf_counter()
            run()
            times[i].append(1e3 * (time.perf_counter() - start))
    return times


def time_blocks(
    runners: Sequence[Callable[[], object]], runs: int = 100, warmup: int = 10, blocks: int = 20
) -> list[list[list[float]]]:
    """Time several runners in alternating blocks; return each runner's latencies (ms), one list per block.

    Each runner is warmed up `warmup` times; then `runs` timed runs per runner are split over `blocks` blocks (fewer
    when a block would get under `MIN_BLOCK_RUNS` runs), every runner running its share of a block in turn, the
    order reversed every other block.

    Examples:
        >>> times = time_blocks([lambda: None, lambda: None], runs=30, warmup=1, blocks=5)
        >>> len(times), len(times[0]), [len(b) for b in times[0]]
        (2, 5, [6, 6, 6, 6, 6])
    """
    _check_runs(runs)
    for run in runners:
        for _ in range(warmup):
            run()
    times: list[list[list[float]]] = [[] for _ in runners]
    for b, n in enumerate(_block_sizes(runs, blocks)):
        for i, block in enumerate(_time_block(runners, n, reverse=b % 2 == 1)):
            times[i].append(block)
    return times


def time_interleaved(
    runners: Sequence[Callable[[], object]], runs: int = 50, warmup: int = 10, blocks: int = 5
) -> list[list[float]]:
    """Time several runners in alternating blocks (`time_blocks`); return each runner's latencies (ms) in one list.

    Examples:
        >>> times = time_interleaved([lambda: None, lambda: None], runs=30, warmup=1, blocks=3)
        >>> [len(t) for t in times]
        [30, 30]
    """
    return [[t for block in runner for t in block] for runner in time_blocks(runners, runs, warmup, blocks)]


def time_paired(
    attention: Callable[[], object],
    baseline: Callable[[], object],
    runs: int = 100,
    warmup: int = 10,
    blocks: int = 20,
    target_halfwidth: float | None = None,
    confidence: float = 0.95,
) -> tuple[list[list[float]], list[list[float]], LatencyRatio]:
    """Time two models in alternating blocks; return their latencies per block and their paired ratio.

    With `target_halfwidth`, blocks of the same size are added after the first `runs` until the interval's
    half-width is at most the target, up to `EXTEND_FACTOR` x `runs` per model. (The rule stops on precision, not on
    the ratio's value, so it does not bias the ratio.)

    Args:
        attention (Callable[[], object]): Runs the attention model once.
        baseline (Callable[[], object]): Runs the baseline once.
        runs (int): Timed runs per model (at least `MIN_RUNS`); the minimum with `target_halfwidth`.
        warmup (int): Untimed runs of each model first.
        blocks (int): Blocks the runs are split over (each gets at least `MIN_BLOCK_RUNS`).
        target_halfwidth (float, optional): Add blocks until the ratio's interval is at most ± this.
        confidence (float): Confidence level of the interval.

    Returns:
        (tuple): Attention latencies per block, baseline latencies per block (ms), and their `LatencyRatio`.
    """
    times = time_blocks([attention, baseline], runs, warmup, blocks)
    ratio = ratio_interval(times[0], times[1], confidence)
    if target_halfwidth is not None:
        n = max(_block_sizes(runs, blocks))
        done = runs
        while not ratio.halfwidth <= target_halfwidth and done + n <= EXTEND_FACTOR * runs:
            a, b = _time_block([attention, baseline], n, reverse=len(times[0]) % 2 == 1)
            times[0].append(a)
            times[1].append(b)
            done += n
            ratio = ratio_interval(times[0], times[1], confidence)
    return times[0], times[1], ratio
