"""The comparison's statistics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from yolo_attention.compare.stats import (
    f_score,
    mean_std,
    paired_bootstrap,
    paired_differences,
    significant,
    t_interval,
)

T_975_DF2 = 4.302653  # Student t quantile 0.975 with 2 degrees of freedom (tables)


class TestMeanStd:
    def test_sample_std(self):
        mean, std = mean_std([0.1, 0.2, 0.3])
        assert mean == pytest.approx(0.2) and std == pytest.approx(0.1)  # ddof=1; ddof=0 would give 0.0816

    def test_one_value_has_no_std(self):
        mean, std = mean_std([0.7])
        assert mean == 0.7 and math.isnan(std)

    def test_none_is_ignored_and_empty_is_nan(self):
        assert mean_std([0.2, None, 0.4]) == pytest.approx((0.3, math.sqrt(0.02)))
        assert all(math.isnan(v) for v in mean_std([]))


class TestTInterval:
    def test_hand_computed(self):
        mean, low, high = t_interval([0.1, 0.2, 0.3])
        half = T_975_DF2 * 0.1 / math.sqrt(3)
        assert half == pytest.approx(0.248414, abs=1e-6)
        assert (mean, low, high) == pytest.approx((0.2, 0.2 - half, 0.2 + half), abs=1e-6)

    def test_higher_confidence_is_wider(self):
        _, low95, high95 = t_interval([0.1, 0.2, 0.3])
        _, low99, high99 = t_interval([0.1, 0.2, 0.3], confidence=0.99)
        assert low99 < low95 and high99 > high95

    def test_fewer_than_two_values(self):
        mean, low, high = t_interval([0.3])
        assert mean == 0.3 and math.isnan(low) and math.isnan(high)

    def test_bad_confidence(self):
        with pytest.raises(ValueError, match="confidence=95"):
            t_interval([0.1, 0.2], confidence=95)


class TestSignificant:
    @pytest.mark.parametrize(
        "low,high,expected",
        [(0.01, 0.2, True), (-0.2, -0.01, True), (-0.01, 0.2, False), (0.0, 0.2, False), (math.nan, 0.2, False),
         (None, None, False)],
    )  # fmt: skip
    def test_excludes_zero(self, low, high, expected):
        assert significant(low, high) is expected


class TestPairedDifferences:
    def runs(self):
        table = [("plain", 0, 0.50), ("plain", 1, 0.60), ("plain", 2, 0.70), ("b", 1, 0.65), ("b", 0, 0.55),
                 ("a", 0, 0.40), ("a", 2, None), ("a", 3, 0.90)]  # fmt: skip
        return [{"variant": v, "seed": s, "metrics": {"mAP50": m}} for v, s, m in table]

    def test_pairs_by_seed_and_skips_missing(self):
        diffs = paired_differences(self.runs(), "mAP50")
        assert list(diffs) == ["b", "a"]  # order first seen, reference left out
        assert diffs["b"] == pytest.approx([0.05, 0.05])  # seeds 0 and 1, not in record order
        assert diffs["a"] == pytest.approx([-0.10])  # seed 2 is None, seed 3 has no plain

    def test_other_reference(self):
        diffs = paired_differences(self.runs(), "mAP50", reference="b")
        assert diffs["plain"] == pytest.approx([-0.05, -0.05]) and diffs["a"] == pytest.approx([-0.15])

    def test_missing_metric(self):
        assert paired_differences(self.runs(), "F") == {"b": [], "a": []}


class TestFScore:
    def test_values(self):
        assert f_score([8, 2, 2]) == pytest.approx(0.8)
        assert f_score(np.array([3.0, 1.0, 0.0])) == pytest.approx(6 / 7)
        assert f_score([0, 0, 0]) == 0.0
        assert f_score([0, 5, 5]) == 0.0


class TestPairedBootstrap:
    @staticmethod
    def counts(n=40, seed=1):
        rng = np.random.default_rng(seed)
        return rng.integers(0, 6, size=(n, 3))

    def test_identical_models(self):
        a = self.counts()  # images differ from each other: an unpaired resample would give a non-zero width
        assert paired_bootstrap(a, a.copy()) == (0.0, 0.0, 0.0)

    def test_tp_turned_into_fn(self):
        a = self.counts()
        b = a.copy()
        b[:, 2] += b[:, 0]
        b[:, 0] = 0
        delta, low, high = paired_bootstrap(a, b)
        assert delta == pytest.approx(f_score(a.sum(0)))  # b's F is 0
        assert 0 < low <= delta <= high and significant(low, high)

    def test_hand_computed_delta(self):
        a = np.array([[2, 1, 0], [1, 0, 1], [3, 0, 0]])
        b = np.array([[1, 1, 1], [1, 0, 1], [2, 1, 1]])
        delta, low, high = paired_bootstrap(a, b, n_resamples=500)
        assert delta == pytest.approx(12 / 14 - 8 / 13)
        assert low <= delta <= high

    def test_deterministic_per_seed(self):
        a, b = self.counts(seed=1), self.counts(seed=2)
        assert paired_bootstrap(a, b, seed=3) == paired_bootstrap(a, b, seed=3)
        assert paired_bootstrap(a, b, seed=3) != paired_bootstrap(a, b, seed=4)

    def test_custom_statistic_and_confidence(self):
        a, b = self.counts(seed=1), self.counts(seed=2)
        delta, low, high = paired_bootstrap(a, b, statistic=lambda s: s[0], confidence=0.5)
        assert delta == a[:, 0].sum() - b[:, 0].sum()
        _, low95, high95 = paired_bootstrap(a, b, statistic=lambda s: s[0])
        assert low95 < low <= high < high95

    def test_shapes_must_match(self):
        with pytest.raises(ValueError, match=r"\(3, 3\), \(2, 3\)"):
            paired_bootstrap(np.ones((3, 3)), np.ones((2, 3)))
