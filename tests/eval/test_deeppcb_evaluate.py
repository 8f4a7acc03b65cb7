"""The DeepPCB driver: predict with an Ultralytics model over a dataset split, write the zips, score; and the CLI."""

from __future__ import annotations

import json
import warnings

import pytest
import yaml
from click.testing import CliRunner

from tests.eval.deeppcb_cases import NAMES, OFFICIAL_DIR, needs_official
from yolo_attention.cli.pcb_cmd import val
from yolo_attention.eval.deeppcb import (
    OFFICIAL_KEYS,
    evaluate_deeppcb,
    evaluate_model,
    format_report,
    read_ground_truth,
    read_submission,
    run_official_script,
)


@pytest.fixture(scope="module")
def six_class_model(tmp_path_factory):
    """A random-weights yolov8n-cbam with the six pcb-mini classes (nothing is trained or downloaded)."""
    from yolo_attention.resources import find_bundled

    cfg = yaml.safe_load(find_bundled("yolov8-cbam.yaml").read_text())
    cfg["nc"] = 6
    path = tmp_path_factory.mktemp("cfg") / "yolov8n-cbam.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return str(path)


@pytest.fixture(scope="module")
def pcb_mini_run(six_class_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("deeppcb")
    result, submission = evaluate_model(six_class_model, "pcb-mini.yaml", imgsz=64, conf=0.0, out=out, progress=False)
    return result, submission, out


class TestEvaluateModel:
    def test_pcb_mini_end_to_end(self, pcb_mini_run, repo):
        from PIL import Image

        result, submission, out = pcb_mini_run
        images = sorted((repo / "datasets" / "pcb-mini" / "images" / "val").glob("*.jpg"))
        assert sorted(p.stem for p in submission.glob("*.txt")) == [p.stem for p in images]
        assert (submission / "res.zip").is_file() and (out / "ground_truth" / "gt.zip").is_file()
        metrics = json.loads((out / "deeppcb_metrics.json").read_text())
        assert metrics["all_predictions"]["ap"] == result.ap and "not_official" in metrics["submission"]
        assert result.n_images == 8 and result.n_det > 0 and result.conf == 0.001
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
        for rescored in (
            evaluate_deeppcb(gt, read_submission(submission / "res.zip"), NAMES),  # gt rounded as written
            evaluate_deeppcb(read_ground_truth(out / "ground_truth" / "gt.zip"), read_submission(submission), NAMES),
        ):
            assert (rescored.ap, rescored.fscore, rescored.n_det) == (result.ap, result.fscore, result.n_det)

    @needs_official
    def test_submission_scores_as_the_release_script(self, pcb_mini_run, tmp_path):
        result, submission, out = pcb_mini_run
        official = run_official_script(out / "ground_truth" / "gt.zip", submission / "res.zip", OFFICIAL_DIR, tmp_path)
        for key, official_key in OFFICIAL_KEYS.items():
            assert getattr(result, key) == pytest.approx(official[official_key], abs=1e-12), key

    def test_report(self, pcb_mini_run):
        result, submission, _ = pcb_mini_run
        text = format_report(result, 0.25, submission)
        assert "DeepPCB AP (official rule)" in text and "best F-score" in text and "res.zip" in text
        assert "same-class AP (not official)" in text

    def test_class_count_mismatch_is_an_error(self):
        with pytest.raises(ValueError, match="80 classes"):
            evaluate_model("yolov8n-cbam.yaml", "pcb-mini.yaml", imgsz=64, progress=False)


def test_cli_val_both_protocols(six_class_model, tmp_path):
    runner = CliRunner()
    args = [f"model={six_class_model}", "data=pcb-mini.yaml", "imgsz=64", "batch=8"]
    result = runner.invoke(val, [*args, f"out={tmp_path / 'd'}", "conf=0.01"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "DeepPCB AP (official rule)" in result.output and "best F-score" in result.output
    assert (tmp_path / "d" / "submission" / "res.zip").is_file()
    result = runner.invoke(val, [*args, f"out={tmp_path / 'u'}", "protocol=ultralytics"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "mAP50" in result.output and (tmp_path / "u" / "ultralytics").is_dir()
    result = runner.invoke(val, [*args, "protocol=coco"])
    assert result.exit_code == 2 and "deeppcb, ultralytics" in result.output


def test_old_module_still_imports():
    import importlib
    import sys

    sys.modules.pop("yolo_attention.eval.deeppcb_protocol", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = importlib.import_module("yolo_attention.eval.deeppcb_protocol")
    assert old.evaluate_model is evaluate_model and any(w.category is DeprecationWarning for w in caught)
