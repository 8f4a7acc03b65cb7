"""Seeded, stratified train/val splits: the one definition of the project's held-out DeepPCB part.

DeepPCB's release has a trainval and a test split. Model selection (early stopping, ``best.pt``, comparisons) must
never look at the test split, so the project holds out a fixed part of trainval for validation. That part is defined
here, once: ``HOLDOUT_FRACTION`` of the trainval images, drawn with ``HOLDOUT_SEED``, stratified by each image's
dominant defect class. The converter writes it as ``train:``/``val:``, and every tool under ``tools/`` reads it from
there.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence

__all__ = ["HOLDOUT_FRACTION", "HOLDOUT_SEED", "dominant_class", "stratified_split"]

HOLDOUT_FRACTION = 0.2
"""Share of DeepPCB trainval held out for validation."""
HOLDOUT_SEED = 0
"""Seed of the held-out split."""


def dominant_class(classes: Iterable[int]) -> int:
    """The most frequent class of one image; ties go to the smallest class id; -1 for an image without boxes.

    Examples:
        >>> dominant_class([3, 1, 3, 1, 2])
        1
        >>> dominant_class([])
        -1
    """
    counts = Counter(classes)
    if not counts:
        return -1
    best = max(counts.values())
    return min(c for c, n in counts.items() if n == best)


def stratified_split(
    keys: Sequence[str], strata: Mapping[str, Hashable], fraction: float, seed: int
) -> tuple[list[str], list[str]]:
    """Split ``keys`` into (train, val) with ``round(fraction * n)`` of each stratum in val.

    Within a stratum the keys are sorted, then shuffled by ``random.Random(seed)``, so the split depends only on the
    keys, their strata, the fraction and the seed (not on the order the keys come in).

    Args:
        keys (Sequence[str]): Item keys (e.g. image ids).
        strata (Mapping[str, Hashable]): Stratum of each key (e.g. its dominant class).
        fraction (float): Share of each stratum that goes to val, in [0, 1].
        seed (int): Seed of the shuffle.

    Returns:
        (tuple[list[str], list[str]]): Sorted train keys and sorted val keys.

    Examples:
        >>> train, val = stratified_split(["a", "b", "c", "d"], {"a": 0, "b": 0, "c": 1, "d": 1}, 0.5, 0)
        >>> len(val), sorted(train + val)
        (2, ['a', 'b', 'c', 'd'])
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction={fraction} must be in [0, 1]")
    groups: dict[Hashable, list[str]] = defaultdict(list)
    for key in keys:
        groups[strata[key]].append(key)
    rng = random.Random(seed)
    train: list[str] = []
    val: list[str] = []
    for stratum in sorted(groups, key=repr):
        members = sorted(groups[stratum])
        rng.shuffle(members)
        n_val = round(len(members) * fraction)
        val += members[:n_val]
        train += members[n_val:]
    return sorted(train), sorted(val)
