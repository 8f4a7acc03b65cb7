"""Split helpers: the held-out DeepPCB split stays frozen; the group split keeps groups whole and follows the strata."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from yolo_attention.data.splits import (
    HOLDOUT_FRACTION,
    HOLDOUT_SEED,
    dominant_class,
    group_stratified_split,
    holdout_split,
    stratified_split,
)

KEYS = [f"{i:08d}" for i in range(20)]
STRATA = {k: (i % 4 if i % 5 else -1) for i, k in enumerate(KEYS)}


class TestHeldOutSplit:
    def test_constants(self):
        assert (HOLDOUT_FRACTION, HOLDOUT_SEED) == (0.2, 0)

    def test_stratified_split_is_frozen(self):
        # A trained model depends on this split: these values were produced by the first version of the function.
        train, val = stratified_split(KEYS, STRATA, 0.2, 0)
        assert val == ["00000001", "00000004", "00000006", "00000010", "00000011"]
        assert sorted(train + val) == KEYS
        assert stratified_split(KEYS, STRATA, 0.2, 1)[1] == ["00000001", "00000014", "00000015", "00000016", "00000019"]

    def test_dominant_class(self):
        assert dominant_class([3, 1, 3, 1, 2]) == 1 and dominant_class([5, 4, 4]) == 4 and dominant_class([]) == -1

    def test_holdout_split_is_stratified_split_with_the_constants(self):
        classes = {k: [s, s] if s >= 0 else [] for k, s in STRATA.items()}
        assert holdout_split(classes) == stratified_split(KEYS, STRATA, HOLDOUT_FRACTION, HOLDOUT_SEED)


def _boards(n_boards: int = 30, seed: int = 5) -> tuple[list[str], dict[str, str], dict[str, int]]:
    """Photos of ``n_boards`` boards, 2 to 8 photos each, strata skewed per board."""
    rng = random.Random(seed)
    keys, groups, strata = [], {}, {}
    for b in range(n_boards):
        for k in range(rng.randint(2, 8)):
            key = f"{b:02d}_{k:02d}"
            keys.append(key)
            groups[key] = f"{b:02d}"
            strata[key] = rng.choice([0, 0, 1, 2]) if b % 3 else rng.choice([1, 2, 3])
    return keys, groups, strata


FRACTIONS = {"train": 0.7, "val": 0.15, "test": 0.15}


class TestGroupStratifiedSplit:
    def test_every_group_in_exactly_one_part(self):
        keys, groups, strata = _boards()
        parts = group_stratified_split(keys, groups, strata, FRACTIONS, seed=0)
        assert list(parts) == ["train", "val", "test"]
        assert sorted(k for part in parts.values() for k in part) == sorted(keys)
        owner = {}
        for part, part_keys in parts.items():
            for key in part_keys:
                assert owner.setdefault(groups[key], part) == part, f"group {groups[key]} in two parts"
        assert all(part == sorted(part) for part in parts.values())

    def test_shares_follow_the_fractions_per_stratum(self):
        keys, groups, strata = _boards(n_boards=60)
        parts = group_stratified_split(keys, groups, strata, FRACTIONS, seed=0)
        totals = Counter(strata.values())
        for part, fraction in FRACTIONS.items():
            counts = Counter(strata[k] for k in parts[part])
            for stratum, n in totals.items():
                assert abs(counts[stratum] - fraction * n) <= max(3, 0.1 * n), (part, stratum, counts[stratum], n)

    def test_closer_to_the_targets_than_a_plain_group_shuffle(self):
        keys, groups, strata = _boards(n_boards=60)
        totals = Counter(strata.values())

        def distance(parts):
            return sum(
                (Counter(strata[k] for k in parts[p])[c] - f * n) ** 2
                for p, f in FRACTIONS.items()
                for c, n in totals.items()
            )

        order = sorted(set(groups.values()))
        random.Random(0).shuffle(order)
        cut1, cut2 = round(0.7 * len(order)), round(0.85 * len(order))
        chosen = {"train": set(order[:cut1]), "val": set(order[cut1:cut2]), "test": set(order[cut2:])}
        naive = {p: [k for k in keys if groups[k] in g] for p, g in chosen.items()}
        assert distance(group_stratified_split(keys, groups, strata, FRACTIONS, seed=0)) < distance(naive)

    def test_reproducible_by_seed_and_independent_of_key_order(self):
        keys, groups, strata = _boards()
        a = group_stratified_split(keys, groups, strata, FRACTIONS, seed=0)
        b = group_stratified_split(list(reversed(keys)), groups, strata, FRACTIONS, seed=0)
        c = group_stratified_split(keys, groups, strata, FRACTIONS, seed=1)
        assert a == b
        assert a != c

    def test_a_part_with_fraction_zero_stays_empty(self):
        keys, groups, strata = _boards()
        parts = group_stratified_split(keys, groups, strata, {"train": 0.8, "val": 0.2, "test": 0.0}, seed=0)
        assert parts["test"] == [] and parts["val"]

    def test_singleton_groups(self):
        keys = [f"k{i:03d}" for i in range(100)]
        strata = {k: i % 2 for i, k in enumerate(keys)}
        parts = group_stratified_split(keys, {k: k for k in keys}, strata, {"train": 0.8, "val": 0.2}, seed=3)
        assert [Counter(strata[k] for k in parts["val"])[s] for s in (0, 1)] == [10, 10]

    @pytest.mark.parametrize("fractions", [{"train": 0.7, "val": 0.2}, {"train": 1.2, "val": -0.2}, {}])
    def test_bad_fractions(self, fractions):
        with pytest.raises(ValueError, match="fractions="):
            group_stratified_split(["a"], {"a": 0}, {"a": 0}, fractions, seed=0)
