"""DeepPCB's protocol: hand-made predictions with known answers, a literal reference, the submission round trip."""

from __future__ import annotations

import random
import re
import zipfile

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from yolo_attention.cli.pcb_cmd import val
from yolo_attention.data.deeppcb import DEEPPCB_CLASSES
from yolo_attention.eval.deeppcb_protocol import (
    evaluate_deeppcb,
    evaluate_model,
    match_image,
    read_submission,
    submission_lines,
    write_submission,
)

NAMES = list(DEEPPCB_CLASSES)
# The line rule of the release's script, as its regular expression for LTRB + confidence + transcription reads.
RELEASE_LINE = re.compile(
    r"^\s*(-?[0-9]+)\s*,\s*(-?[0-9]+)\s*,\s*([0-9]+)\s*,\s*([0-9]+)\s*,\s*([0-1].?[0-9]*)\s*,(.*)$"
)


def reference(gt: dict, det: dict, thr: float = 0.33) -> dict:
    """The ICDAR 2015 script's loops, written out literally (class check added as DeepPCB's README says)."""
    confs, matches, n_gt, n_det, matched_sum = [], [], 0, 0, 0
    for image, gts in gt.items():
        dets = sorted(det.get(image, []), key=lambda d: d[4], reverse=True)
        gt_done, det_done = [0] * len(gts), [0] * len(dets)

        def area(b):
            return (b[2] - b[0]) * (b[3] - b[1])

        def iou(a, b):
            w = min(a[2], b[2]) - max(a[0], b[0])
            h = min(a[3], b[3]) - max(a[1], b[1])
            inter = w * h if w > 0 and h > 0 else 0
            union = area(a) + area(b) - inter
            return inter / union if union else 0

        for g in range(len(gts)):
            for d in range(len(dets)):
                if gt_done[g] == 0 and det_done[d] == 0 and gts[g][4] == dets[d][5] and iou(gts[g], dets[d]) > thr:
                    gt_done[g] = det_done[d] = 1
        confs += [d[4] for d in dets]
        matches += det_done
        n_gt, n_det, matched_sum = n_gt + len(gts), n_det + len(dets), matched_sum + sum(det_done)
    order = sorted(range(len(confs)), key=lambda i: -confs[i])
    correct, ap = 0, 0.0
    for n, i in enumerate(order):
        if matches[i]:
            correct += 1
            ap += correct / (n + 1)
    recall, precision = matched_sum / n_gt, (matched_sum / n_det if n_det else 0)
    fscore = 0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return {"ap": ap / n_gt, "precision": precision, "recall": recall, "fscore": fscore}


class TestKnownAnswers:
    gt = {"a": [(10, 10, 60, 60, "open"), (100, 100, 140, 130, "short")], "b": [(0, 0, 100, 100, "spur")]}

    def test_perfect_predictions(self):
        det = {k: [(*r[:4], 0.9, r[4]) for r in rows] for k, rows in self.gt.items()}
        result = evaluate_deeppcb(self.gt, det, NAMES)
        assert (result.ap, result.map, result.precision, result.recall, result.fscore) == (1, 1, 1, 1, 1)
        assert result.n_gt == result.n_det == result.n_matched == 3
        assert result.per_class["open"].ap == 1 and result.per_class["pin-hole"].n_gt == 0

    @pytest.mark.parametrize("height,counts", [(34, True), (33, False), (32, False)])
    def test_iou_above_033_counts(self, height, counts):
        gt = {"a": [(0, 0, 100, 100, "open")]}  # IoU of (0, 0, 100, height) with it: height / 100
        result = evaluate_deeppcb(gt, {"a": [(0, 0, 100, height, 0.8, "open")]})
        assert result.n_matched == int(counts) and result.fscore == float(counts)

    def test_wrong_class_does_not_count(self):
        result = evaluate_deeppcb({"a": [(0, 0, 100, 100, "open")]}, {"a": [(0, 0, 100, 100, 0.9, "short")]})
        assert (result.ap, result.precision, result.recall, result.fscore) == (0, 0, 0, 0)
        assert result.per_class["short"].n_det == 1 and result.per_class["short"].n_gt == 0

    def test_confidence_order_matters_for_ap_not_for_fscore(self):
        gt = {"a": [(0, 0, 50, 50, 0), (100, 0, 150, 50, 1)]}
        tp1, tp2, fp = (0, 0, 50, 50), (100, 0, 150, 50), (300, 300, 350, 350)
        good = evaluate_deeppcb(gt, {"a": [(*tp1, 0.9, 0), (*fp, 0.8, 2), (*tp2, 0.7, 1)]}, NAMES)
        bad = evaluate_deeppcb(gt, {"a": [(*fp, 0.9, 2), (*tp1, 0.8, 0), (*tp2, 0.7, 1)]}, NAMES)
        assert good.ap == pytest.approx((1 / 1 + 2 / 3) / 2)
        assert bad.ap == pytest.approx((1 / 2 + 2 / 3) / 2)
        assert good.fscore == bad.fscore == pytest.approx(0.8)  # P 2/3, R 1

    def test_one_detection_per_box_highest_confidence_first(self):
        gt = {"a": [(0, 0, 100, 100, 0)]}
        result = evaluate_deeppcb(gt, {"a": [(5, 5, 100, 100, 0.6, 0), (0, 0, 100, 100, 0.7, 0)]}, NAMES)
        assert result.n_matched == 1 and result.precision == 0.5
        assert result.ap == 1.0  # the 0.7 duplicate is the match; the 0.6 one ranks after it

    def test_ground_truth_in_file_order_takes_the_first_fitting_detection(self):
        """ICDAR's rule, not VOC's: box A (first) takes det 1 although det 1 fits box B better; B then takes det 2.

        VOC/COCO matching (each detection, by confidence, takes its best box) would give det 1 to B and leave
        det 2 (IoU 0.06 with A) unmatched: recall 0.5 instead of 1.
        """
        a, b = (0, 0, 100, 100), (0, 50, 100, 150)
        det1, det2 = (0, 40, 100, 140), (0, 90, 100, 160)  # det1: IoU 0.43 with A, 0.82 with B; det2: 0.55 with B
        boxes = np.array([a, b], float), np.array([det1, det2], float)
        assert match_image(boxes[0], [0, 0], boxes[1], [0, 0]).tolist() == [True, True]
        result = evaluate_deeppcb({"x": [(*a, 0), (*b, 0)]}, {"x": [(*det1, 0.9, 0), (*det2, 0.8, 0)]})
        assert result.recall == 1.0

    def test_detections_on_a_defect_free_image_are_false_positives(self):
        gt = {"a": [(0, 0, 10, 10, 0)], "clean": []}
        result = evaluate_deeppcb(gt, {"a": [(0, 0, 10, 10, 0.5, 0)], "clean": [(0, 0, 10, 10, 0.9, 0)]}, NAMES)
        assert result.precision == 0.5 and result.ap == pytest.approx(0.5) and result.n_images == 2

    def test_names_and_indices_compare_alike(self):
        by_index = evaluate_deeppcb({"a": [(0, 0, 10, 10, 5)]}, {"a": [(0, 0, 10, 10, 0.9, "pin-hole")]}, NAMES)
        assert by_index.fscore == 1.0 and list(by_index.per_class) == NAMES

    def test_input_errors(self):
        with pytest.raises(ValueError, match="without ground truth"):
            evaluate_deeppcb({"a": []}, {"b": [(0, 0, 1, 1, 0.5, 0)]})
        with pytest.raises(ValueError, match="expected"):
            evaluate_deeppcb({"a": [(0, 0, 1, 1)]}, {})
        with pytest.raises(ValueError, match="without `names`"):
            submission_lines([(0, 0, 1, 1, 0.5, 0)])


def random_case(seed: int, images: int = 12) -> tuple[dict, dict]:
    rng = random.Random(seed)
    gt, det = {}, {}
    for i in range(images):
        boxes = []
        for _ in range(rng.randint(0, 6)):
            x, y, s = rng.randint(8, 500), rng.randint(8, 500), rng.randint(14, 60)
            boxes.append((x, y, x + s, y + rng.randint(14, 60), rng.randint(0, 2)))
        gt[f"{i:08d}"] = boxes
        preds = []
        for x1, y1, x2, y2, c in boxes:
            for _ in range(rng.randint(0, 2)):
                j = [rng.randint(-6, 6) for _ in range(4)]  # boxes stay valid: x2 > x1 > 0
                cls = c if rng.random() < 0.85 else (c + 1) % 3
                preds.append((x1 + j[0], y1 + j[1], x2 + j[2], y2 + j[3], round(rng.random(), 6), cls))
        for _ in range(rng.randint(0, 3)):
            x, y = rng.randint(0, 500), rng.randint(0, 500)
            preds.append((x, y, x + 30, y + 30, round(rng.random(), 6), rng.randint(0, 2)))
        det[f"{i:08d}"] = preds
    return gt, det


class TestAgainstLiteralReference:
    @pytest.mark.parametrize("seed", range(5))
    def test_equal_to_the_scripts_loops(self, seed):
        gt, det = random_case(seed)
        ours = evaluate_deeppcb(gt, det, NAMES)
        ref = reference(gt, det)
        for key in ("ap", "precision", "recall", "fscore"):
            assert getattr(ours, key) == pytest.approx(ref[key], abs=1e-12), key

    @pytest.mark.parametrize("conf", [0.0, 0.3, 0.5, 0.77, 1.0])
    def test_at_conf_equals_rescoring_the_kept_detections(self, conf):
        gt, det = random_case(7)
        kept = {k: [r for r in rows if r[4] >= conf] for k, rows in det.items()}
        direct, derived = evaluate_deeppcb(gt, kept, NAMES), evaluate_deeppcb(gt, det, NAMES).at_conf(conf)
        for key in ("ap", "precision", "recall", "fscore", "n_det", "n_matched"):
            assert getattr(derived, key) == pytest.approx(getattr(direct, key)), key

    def test_best_fscore_is_the_best_threshold(self):
        gt, det = random_case(11)
        result = evaluate_deeppcb(gt, det, NAMES)
        best, at = result.best_fscore()
        thresholds = sorted({r[4] for rows in det.values() for r in rows})
        brute = max(result.at_conf(t).fscore for t in thresholds)
        assert best == pytest.approx(brute) and result.at_conf(at).fscore == pytest.approx(best)


class TestSubmission:
    def test_lines_follow_the_release_format(self):
        rows = [(10.4, 20.6, 50.5, 80.0, 0.91234567, 2), (-3.2, 4, 9.6, 7, 1e-05, 5), (0, 0, 5, 5, 1.0, "open")]
        lines = submission_lines(rows, NAMES)
        assert lines == ["10,21,51,80,0.912346,mousebite", "0,4,10,7,0.000010,pin-hole", "0,0,5,5,1.000000,open"]
        assert all(RELEASE_LINE.match(line) and " " not in line for line in lines)

    def test_round_trip_scores_the_same(self, tmp_path):
        gt, det = random_case(3)
        det = {k: [(x1 + 0.4, y1 - 0.3, x2 + 0.2, y2, c, cls) for x1, y1, x2, y2, c, cls in rows]
               for k, rows in det.items()}  # fmt: skip
        folder = write_submission(det, tmp_path / "submission", NAMES)
        assert sorted(p.stem for p in folder.glob("*.txt")) == sorted(det)
        with zipfile.ZipFile(folder / "res.zip") as archive:
            assert sorted(archive.namelist()) == sorted(f"{k}.txt" for k in det)  # flat: no sub-folder
        for text in (p.read_text() for p in folder.glob("*.txt")):
            assert all(RELEASE_LINE.match(line) for line in text.splitlines())
        for source in (folder, folder / "res.zip"):
            again = evaluate_deeppcb(gt, read_submission(source), NAMES)
            first = evaluate_deeppcb(gt, det, NAMES)
            assert (again.ap, again.fscore, again.n_det) == (first.ap, first.fscore, first.n_det)

    def test_conf_threshold_and_empty_files(self, tmp_path):
        folder = write_submission({"a": [(0, 0, 5, 5, 0.2, 0)], "b": []}, tmp_path / "s", NAMES, conf=0.25)
        assert (folder / "a.txt").read_text() == "" and (folder / "b.txt").read_text() == ""

    def test_bad_image_id_and_bad_lines(self, tmp_path):
        with pytest.raises(ValueError, match="bare file stem"):
            write_submission({"x/a": []}, tmp_path / "s", NAMES)
        (tmp_path / "bad").mkdir()
        (tmp_path / "bad" / "a.txt").write_text("1.5,2,3,4,0.5,open\n")
        with pytest.raises(ValueError, match="integer pixels"):
            read_submission(tmp_path / "bad")


@pytest.fixture(scope="module")
def six_class_model(tmp_path_factory):
    """A random-weights yolov8n-cbam with the six pcb-mini classes (nothing is trained or downloaded)."""
    from yolo_attention.resources import find_bundled

    cfg = yaml.safe_load(find_bundled("yolov8-cbam.yaml").read_text())
    cfg["nc"] = 6
    path = tmp_path_factory.mktemp("cfg") / "yolov8n-cbam.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return str(path)


class TestEvaluateModel:
    def test_pcb_mini_end_to_end(self, six_class_model, tmp_path, repo):
        from PIL import Image

        result, submission = evaluate_model(
            six_class_model, "pcb-mini.yaml", imgsz=64, conf=0.0, out=tmp_path, progress=False
        )
        images = sorted((repo / "datasets" / "pcb-mini" / "images" / "val").glob("*.jpg"))
        assert sorted(p.stem for p in submission.glob("*.txt")) == [p.stem for p in images]
        assert (tmp_path / "deeppcb_metrics.json").is_file() and (submission / "res.zip").is_file()
        assert result.n_images == 8 and result.n_det > 0
        assert set(result.per_class) == set(NAMES)

        gt = {}  # the labels read back the plain way: YOLO cx cy w h -> pixels
        for image in images:
            width, height = Image.open(image).size
            rows = [line.split() for line in (image.parents[2] / "labels" / "val" / f"{image.stem}.txt").open()]
            gt[image.stem] = [
                ((cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height, int(c))
                for c, cx, cy, w, h in ((r[0], *map(float, r[1:])) for r in rows)
            ]
        assert result.n_gt == sum(len(v) for v in gt.values())
        rescored = evaluate_deeppcb(gt, read_submission(submission), NAMES)
        assert (rescored.ap, rescored.fscore, rescored.n_det) == (result.ap, result.fscore, result.n_det)

    def test_class_count_mismatch_is_an_error(self):
        with pytest.raises(ValueError, match="80 classes"):
            evaluate_model("yolov8n-cbam.yaml", "pcb-mini.yaml", imgsz=64, progress=False)

    def test_cli_val_both_protocols(self, six_class_model, tmp_path):
        runner = CliRunner()
        args = [f"model={six_class_model}", "data=pcb-mini.yaml", "imgsz=64", "batch=8"]
        result = runner.invoke(val, [*args, f"out={tmp_path / 'd'}", "conf=0.01"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert "DeepPCB protocol (IoU > 0.33, same class)" in result.output and "best F-score" in result.output
        assert (tmp_path / "d" / "submission" / "res.zip").is_file()
        result = runner.invoke(val, [*args, f"out={tmp_path / 'u'}", "protocol=ultralytics"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert "mAP50" in result.output and (tmp_path / "u" / "ultralytics").is_dir()
        result = runner.invoke(val, [*args, "protocol=coco"])
        assert result.exit_code == 2 and "deeppcb, ultralytics" in result.output
