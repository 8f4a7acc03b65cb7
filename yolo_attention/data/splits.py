"""Seeded, stratified splits: the one definition of the project's held-out DeepPCB part, and splits by group.

DeepPCB's release has a trainval and a test split. Model selection (early stopping, ``best.pt``, comparisons) must
never look at the test split, so the project holds out a fixed part of trainval for validation. That part is defined
here, once: ``HOLDOUT_FRACTION`` of the trainval images, drawn with ``HOLDOUT_SEED``, stratified by each image's
dominant defect class. The converter writes it as ``train:``/``val:``, and every tool under ``tools/`` reads it from
there.

Where several images show one physical object (HRIPCB photographs each board many times), a split by image would put
near-duplicates on both sides; ``group_stratified_split`` keeps every group whole in one split instead.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence

__all__ = [
    "GROUP_SPLIT_TRIES",
    "HOLDOUT_FRACTION",
    "HOLDOUT_SEED",
    "dominant_class",
    "group_stratified_split",
    "holdout_split",
    "stratified_split",
]

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


def holdout_split(classes: Mapping[str, Iterable[int]]) -> tuple[list[str], list[str]]:
    """The project's held-out split of DeepPCB trainval images: ``stratified_split`` with the project's constants.

    Keys are the image ids, strata their ``dominant_class``, the fraction ``HOLDOUT_FRACTION``, the seed
    ``HOLDOUT_SEED``. The DeepPCB converter writes its ``train``/``val`` folders from this.

    Args:
        classes (Mapping[str, Iterable[int]]): Class id of every box of each image id (a label file's first column).

    Returns:
        (tuple[list[str], list[str]]): Sorted train ids and sorted val ids.

    Examples:
        >>> train, val = holdout_split({f"{i:08d}": [i % 2] for i in range(10)})
        >>> len(train), len(val)
        (8, 2)
    """
    strata = {image_id: dominant_class(ids) for image_id, ids in classes.items()}
    return stratified_split(list(strata), strata, HOLDOUT_FRACTION, HOLDOUT_SEED)


GROUP_SPLIT_TRIES = 16
"""Seeded group orders ``group_stratified_split`` tries, keeping the one that lands closest to the targets."""


def group_stratified_split(
    keys: Sequence[str],
    groups: Mapping[str, Hashable],
    strata: Mapping[str, Hashable],
    fractions: Mapping[str, float],
    seed: int,
) -> dict[str, list[str]]:
    """Split ``keys`` into named parts, every group whole in one part, each stratum's share close to ``fractions``.

    Groups are taken in a seeded order and each goes, whole, to the part where it brings the per-stratum key counts
    closest to their targets ``fraction * n_stratum`` (least sum of squared differences; ties to the earlier part in
    ``fractions``). Of ``GROUP_SPLIT_TRIES`` orders drawn from ``random.Random(seed)`` (the groups sorted, then
    shuffled) the one ending closest to the targets is kept. A part with fraction 0 receives nothing. With few groups
    the shares can only be approximate and a small part may stay empty: stratified as far as the groups allow.

    Args:
        keys (Sequence[str]): Item keys (e.g. photo names).
        groups (Mapping[str, Hashable]): Group of each key (e.g. the board a photo shows).
        strata (Mapping[str, Hashable]): Stratum of each key (e.g. its main defect class).
        fractions (Mapping[str, float]): Share of the keys per part, e.g. ``{"train": 0.7, "val": 0.15, "test":
            0.15}``; each in [0, 1], together 1.
        seed (int): Seed of the group orders; the split depends only on the keys, groups, strata, fractions and seed
            (not on the order the keys come in).

    Returns:
        (dict[str, list[str]]): Sorted keys per part, in the order of ``fractions`` (empty parts included).

    Raises:
        ValueError: If a fraction is outside [0, 1] or they do not add up to 1.

    Examples:
        >>> keys = ["a1", "a2", "b1", "b2", "c1", "d1"]
        >>> parts = group_stratified_split(keys, {k: k[0] for k in keys}, dict.fromkeys(keys, 0),
        ...                                {"train": 0.5, "val": 0.5}, seed=0)
        >>> sorted(len(p) for p in parts.values()), sorted(parts["train"] + parts["val"]) == keys
        ([3, 3], True)
    """
    if not fractions or any(not 0.0 <= f <= 1.0 for f in fractions.values()) or abs(sum(fractions.values()) - 1) > 1e-9:
        raise ValueError(f"fractions={dict(fractions)} must each be in [0, 1] and add up to 1")
    members: dict[Hashable, list[str]] = defaultdict(list)
    for key in sorted(keys):
        members[groups[key]].append(key)
    group_counts = {group: Counter(strata[key] for key in group_keys) for group, group_keys in members.items()}
    totals = Counter(strata[key] for key in keys)
    target = {part: {c: f * n for c, n in totals.items()} for part, f in fractions.items()}
    open_parts = [part for part, f in fractions.items() if f > 0]

    rng = random.Random(seed)
    best: tuple[float, dict[str, list[Hashable]]] | None = None
    for _ in range(GROUP_SPLIT_TRIES):
        order = sorted(members, key=repr)
        rng.shuffle(order)
        counts = {part: Counter() for part in fractions}
        placed: dict[str, list[Hashable]] = {part: [] for part in fractions}
        for group in order:
            g = group_counts[group]
            # Growth of the squared distance to the targets if the group joins the part; min keeps the first of equals.
            part = min(open_parts, key=lambda p: sum(n * (n + 2 * (counts[p][c] - target[p][c])) for c, n in g.items()))
            counts[part].update(g)
            placed[part].append(group)
        cost = sum((counts[p][c] - t) ** 2 for p in fractions for c, t in target[p].items())
        if best is None or cost < best[0]:
            best = (cost, placed)
    return {part: sorted(k for group in best[1][part] for k in members[group]) for part in fractions}
