"""DeepPCB's official rule: hand-made cases with known answers, and the release script's loops written out literally."""

from __future__ import annotations

import numpy as np
import pytest

from tests.eval.deeppcb_cases import NAMES, named, random_case, reference
from yolo_attention.eval.deeppcb import (
    box_iou,
    evaluate_deeppcb,
    match_image,
    release_ap,
    submission_lines,
    types_match,
)

BOX = (0, 0, 100, 100)


class TestKnownAnswers:
    gt = {"1": [(10, 10, 60, 60, "open"), (100, 100, 140, 130, "short")], "2": [(0, 0, 100, 100, "spur")]}

    def test_perfect_predictions(self):
        det = {k: [(*r[:4], 0.9, r[4]) for r in rows] for k, rows in self.gt.items()}
        result = evaluate_deeppcb(self.gt, det, NAMES)
        assert (result.ap, result.precision, result.recall, result.fscore) == (1, 1, 1, 1)
        assert (result.same_class_ap, result.map) == (1, 1)
        assert result.n_gt == result.n_det == result.n_correct == 3 and result.n_wrong_type == 0
        assert result.per_class["open"].ap == 1 and result.per_class["pin-hole"].n_gt == 0

    @pytest.mark.parametrize(
        "gt_box,det_box,counts",
        [
            (BOX, (0, 0, 100, 34), True),  # IoU 0.34
            (BOX, (0, 0, 100, 33), False),  # IoU exactly 0.33: not above it
            (BOX, (0, 0, 100, 32), False),
            ((0, 0, 10000, 1), (0, 0, 3300, 1), False),  # 3300 / 10000, exactly 0.33 again
            ((0, 0, 10000, 1), (0, 0, 3301, 1), True),  # 0.3301, just above
        ],
    )
    def test_iou_strictly_above_033(self, gt_box, det_box, counts):
        result = evaluate_deeppcb({"1": [(*gt_box, "open")]}, {"1": [(*det_box, 0.8, "open")]})
        assert result.n_correct == int(counts) and result.fscore == float(counts)

    def test_iou_without_plus_one_and_empty_union(self):
        iou = box_iou(np.array([[0, 0, 10, 10]]), np.array([[5, 0, 15, 10], [0, 0, 0, 0], [10, 10, 20, 20]]))
        assert iou.tolist() == [[50 / 150, 0.0, 0.0]]
        assert box_iou(np.array([[3, 3, 3, 3]]), np.array([[3, 3, 3, 3]])).tolist() == [[0.0]]

    def test_wrong_type_alone_scores_nothing(self):
        result = evaluate_deeppcb({"1": [(*BOX, "open")]}, {"1": [(*BOX, 0.9, "short")]})
        assert (result.ap, result.precision, result.recall, result.fscore) == (0, 0, 0, 0)
        assert result.n_wrong_type == 1 and result.per_class["short"].n_det == 1

    def test_wrong_type_ranked_first_uses_up_the_box(self):
        """Official: the 0.9 'short' pairs with the box (wrong type); the 0.8 'open' finds it taken and is a FP."""
        gt = {"1": [(*BOX, "open")]}
        wrong_first = evaluate_deeppcb(gt, {"1": [(*BOX, 0.9, "short"), (0, 0, 100, 90, 0.8, "open")]})
        assert (wrong_first.ap, wrong_first.recall, wrong_first.precision) == (0, 0, 0)
        assert wrong_first.n_wrong_type == 1
        assert wrong_first.same_class_ap == pytest.approx(1 / 2)  # the old same-class rule: correct at rank 2
        right_first = evaluate_deeppcb(gt, {"1": [(*BOX, 0.7, "short"), (0, 0, 100, 90, 0.8, "open")]})
        assert (right_first.ap, right_first.recall, right_first.precision) == (1, 1, 0.5)

    def test_wrong_type_pair_uses_up_the_detection(self):
        """The first box (file order) takes the only detection although its type fits the second box only."""
        gt = {"1": [(0, 0, 100, 100, "open"), (0, 10, 100, 110, "short")]}
        result = evaluate_deeppcb(gt, {"1": [(0, 5, 100, 105, 0.9, "short")]})
        assert (result.n_correct, result.n_wrong_type, result.recall) == (0, 1, 0)
        assert result.same_class_ap == pytest.approx(1 / 2)  # same-class pairing gives it to the second box

    def test_two_detections_on_one_box(self):
        gt = {"1": [(*BOX, 0)]}
        result = evaluate_deeppcb(gt, {"1": [(5, 5, 100, 100, 0.6, 0), (*BOX, 0.7, 0)]}, NAMES)
        assert (result.n_correct, result.n_det, result.precision, result.ap) == (1, 2, 0.5, 1.0)  # 0.7 pairs first

    def test_confidence_order_matters_for_ap_not_for_fscore(self):
        gt = {"1": [(0, 0, 50, 50, 0), (100, 0, 150, 50, 1)]}
        tp1, tp2, fp = (0, 0, 50, 50), (100, 0, 150, 50), (300, 300, 350, 350)
        good = evaluate_deeppcb(gt, {"1": [(*tp1, 0.9, 0), (*fp, 0.8, 2), (*tp2, 0.7, 1)]}, NAMES)
        bad = evaluate_deeppcb(gt, {"1": [(*fp, 0.9, 2), (*tp1, 0.8, 0), (*tp2, 0.7, 1)]}, NAMES)
        assert good.ap == pytest.approx((1 / 1 + 2 / 3) / 2)
        assert bad.ap == pytest.approx((1 / 2 + 2 / 3) / 2)
        assert good.fscore == bad.fscore == pytest.approx(0.8)  # P 2/3, R 1

    def test_ground_truth_in_file_order_takes_the_first_fitting_detection(self):
        """ICDAR's rule, not VOC's: box A (first) takes det 1 although det 1 fits box B better; B then takes det 2."""
        a, b = (0, 0, 100, 100), (0, 50, 100, 150)
        det1, det2 = (0, 40, 100, 140), (0, 90, 100, 160)  # det1: IoU 0.43 with A, 0.82 with B; det2: 0.55 with B
        match = match_image(np.array([a, b]), ["open", "open"], np.array([det1, det2]), ["open", "open"])
        assert match.correct.tolist() == match.paired.tolist() == [True, True]
        result = evaluate_deeppcb({"1": [(*a, 0), (*b, 0)]}, {"1": [(*det1, 0.9, 0), (*det2, 0.8, 0)]})
        assert result.recall == 1.0

    def test_images_without_ground_truth(self):
        gt = {"1": [(0, 0, 10, 10, 0)], "2": [], "3": []}
        result = evaluate_deeppcb(gt, {"1": [(0, 0, 10, 10, 0.5, 0)], "2": [(0, 0, 10, 10, 0.9, 0)]}, NAMES)
        assert (result.precision, result.ap, result.n_images, result.n_det) == (0.5, 0.5, 3, 2)  # the FP ranks first
        empty = evaluate_deeppcb({"1": [], "2": []}, {"1": [(0, 0, 10, 10, 0.9, 0)]})
        assert (empty.ap, empty.precision, empty.recall, empty.fscore, empty.n_gt) == (0, 0, 0, 0, 0)
        nothing = evaluate_deeppcb({"1": [(*BOX, "open")]}, {})
        assert (nothing.ap, nothing.precision, nothing.recall, nothing.n_det) == (0, 0, 0, 0)

    def test_dont_care_boxes(self):
        """Type '###' (never in DeepPCB) is not counted; a detection mostly inside one is not counted either."""
        gt = {"1": [(*BOX, "###"), (200, 200, 300, 300, "open")]}
        det = {"1": [(10, 10, 90, 90, 0.9, "open"), (200, 200, 300, 300, 0.8, "open"), (0, 0, 300, 300, 0.7, "spur")]}
        result = evaluate_deeppcb(gt, det)
        assert (result.n_gt, result.n_det, result.n_correct, result.ap) == (1, 2, 1, 1.0)

    def test_types_compare_as_the_script_does(self):
        assert types_match("open", "OPEN") and types_match("pin-hole", "Pin-Hole")
        assert not types_match("open", " open") and not types_match("mousebite", "mouse-bite")
        assert types_match("(open)", "open") and types_match("open.", "open") and not types_match("open", "(open)")
        assert evaluate_deeppcb({"1": [(*BOX, "open")]}, {"1": [(*BOX, 0.5, "OPEN")]}).fscore == 1

    def test_names_and_indices_compare_alike(self):
        by_index = evaluate_deeppcb({"1": [(0, 0, 10, 10, 5)]}, {"1": [(0, 0, 10, 10, 0.9, "pin-hole")]}, NAMES)
        assert by_index.fscore == 1.0 and list(by_index.per_class) == NAMES

    def test_release_ap(self):
        assert release_ap([0.9, 0.8, 0.7], [True, False, True], 2) == pytest.approx((1 + 2 / 3) / 2)
        assert release_ap([], [], 3) == 0 and release_ap([0.5], [False], 0) == 0

    def test_input_errors(self):
        with pytest.raises(ValueError, match="without ground truth"):
            evaluate_deeppcb({"1": []}, {"2": [(0, 0, 1, 1, 0.5, 0)]})
        with pytest.raises(ValueError, match="expected"):
            evaluate_deeppcb({"1": [(0, 0, 1, 1)]}, {})
        with pytest.raises(ValueError, match=r"\[0, 1\)"):
            evaluate_deeppcb({"1": []}, {}, iou_threshold=1.5)
        with pytest.raises(ValueError, match="without `names`"):
            submission_lines([(0, 0, 1, 1, 0.5, 0)])


class TestAgainstLiteralReference:
    @pytest.mark.parametrize("seed,decimals", [(0, 6), (1, 6), (2, 6), (3, 2), (4, 2), (5, 1)])
    def test_equal_to_the_scripts_loops(self, seed, decimals):
        gt, det = random_case(seed, images=20, decimals=decimals)  # decimals 1-2: many tied confidences
        gt, det = named(gt, 4), named(det, 5)
        ours, ref = evaluate_deeppcb(gt, det, NAMES, as_submitted=False), reference(gt, det)
        for key in ("ap", "precision", "recall", "fscore"):
            assert getattr(ours, key) == ref[key], key  # bit-identical: the same operations in the same order

    @pytest.mark.parametrize("conf", [0.0, 0.3, 0.5, 0.77, 1.0])
    def test_at_conf_equals_rescoring_the_kept_detections(self, conf):
        gt, det = random_case(7)
        kept = {k: [r for r in rows if r[4] >= conf] for k, rows in det.items()}
        direct, derived = evaluate_deeppcb(gt, kept, NAMES), evaluate_deeppcb(gt, det, NAMES).at_conf(conf)
        for key in ("ap", "precision", "recall", "fscore", "n_det", "n_correct", "same_class_ap"):
            assert getattr(derived, key) == getattr(direct, key), key
        assert derived.conf == conf

    def test_best_fscore_is_the_best_threshold(self):
        gt, det = random_case(11)
        result = evaluate_deeppcb(gt, det, NAMES)
        best, at = result.best_fscore()
        thresholds = sorted({r[4] for rows in det.values() for r in rows})
        brute = max(result.at_conf(t).fscore for t in thresholds)
        assert best == pytest.approx(brute) and result.at_conf(at).fscore == best
        assert evaluate_deeppcb({"1": [(*BOX, "open")]}, {}).best_fscore() == (0.0, 0.0)


def test_summary_labels_the_official_figures():
    gt, det = random_case(2)
    result = evaluate_deeppcb(gt, det, NAMES)
    text = result.summary()
    assert text.startswith(f"DeepPCB AP (official rule): {result.ap:.4f}")
    assert "same-class AP (not official)" in text and "per type (not official)" in text
    as_dict = result.to_dict()
    assert as_dict["ap"] == result.ap and as_dict["not_official"]["same_class_ap"] == result.same_class_ap
