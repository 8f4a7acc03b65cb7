"""The package's DeepPCB scores against the release's own evaluation script, run on the same zips.

Skipped where the script (/work/shared/tools/deeppcb-official, or $DEEPPCB_OFFICIAL) or the Polygon module is absent.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.eval.deeppcb_cases import DEEPPCB_DATASET, NAMES, OFFICIAL_DIR, needs_official, random_case
from yolo_attention.eval.deeppcb import (
    OFFICIAL_KEYS,
    evaluate_deeppcb,
    read_ground_truth,
    read_submission,
    run_official_script,
    write_ground_truth,
    write_submission,
)


def official_and_ours(tmp_path, gt, det, conf=0.0):
    gt_zip = write_ground_truth(gt, tmp_path / "gt", NAMES) / "gt.zip"
    res_zip = write_submission(det, tmp_path / "res", NAMES, conf=conf) / "res.zip"
    official = run_official_script(gt_zip, res_zip, OFFICIAL_DIR, tmp_path / "official")
    in_memory = evaluate_deeppcb(gt, det, NAMES).at_conf(conf)
    from_files = evaluate_deeppcb(read_ground_truth(gt_zip), read_submission(res_zip), as_submitted=False)
    return official, in_memory, from_files


@needs_official
class TestOfficialScript:
    @pytest.mark.parametrize("seed,decimals,conf", [(0, 6, 0.0), (1, 2, 0.0), (2, 2, 0.4)])
    def test_equal_to_the_release_script(self, tmp_path, seed, decimals, conf):
        gt, det = random_case(seed, images=15, decimals=decimals)
        gt["99999999"] = []  # a defect-free image, with a false positive
        det["99999999"] = [(5, 5, 50, 50, 0.55, 1)]
        del det["00000003"]  # an image without a submission file
        det = {
            k: [(x1 + 0.3, y1 - 0.4, x2, y2 + 0.6, c * 0.9999999, t) for x1, y1, x2, y2, c, t in rows]
            for k, rows in det.items()
        }  # fmt: skip  (rounded when written)
        official, in_memory, from_files = official_and_ours(tmp_path, gt, det, conf)
        for ours in (in_memory, from_files):
            for key, official_key in OFFICIAL_KEYS.items():
                assert getattr(ours, key) == pytest.approx(official[official_key], abs=1e-12), key

    def test_hand_made_traps(self, tmp_path):
        box = (0, 0, 100, 100)
        gt = {
            "1": [(*box, "open")],  # a wrong type ranked above the right one
            "2": [(0, 0, 100, 100, "open"), (0, 10, 100, 110, "short")],  # the wrong-type pair takes the detection
            "3": [(0, 0, 10000, 1, "spur"), (0, 5, 10000, 6, "spur")],  # IoU exactly 0.33, then just above
            "4": [],
            "5": [(*box, "###"), (200, 200, 300, 300, "copper")],  # don't care
        }
        det = {
            "1": [(*box, 0.9, "short"), (0, 0, 100, 90, 0.8, "open")],
            "2": [(0, 5, 100, 105, 0.7, "short")],
            "3": [(0, 0, 3300, 1, 0.6, "spur"), (0, 5, 3301, 6, 0.6, "spur")],
            "4": [(0, 0, 5, 5, 0.95, "pin-hole")],
            "5": [(10, 10, 90, 90, 0.9, "open"), (200, 200, 300, 300, 0.5, "copper")],
        }
        official, in_memory, from_files = official_and_ours(tmp_path, gt, det)
        assert in_memory.n_correct == 2 and in_memory.n_wrong_type == 2
        expected = [official[key] for key in OFFICIAL_KEYS.values()]
        for ours in (in_memory, from_files):
            assert [getattr(ours, key) for key in OFFICIAL_KEYS] == pytest.approx(expected, abs=1e-12)
        assert official["AP"] < in_memory.same_class_ap  # the old same-class rule scores these higher

    def test_refused_submission_is_an_error(self, tmp_path):
        gt_zip = write_ground_truth({"1": []}, tmp_path / "gt", NAMES) / "gt.zip"
        res_zip = write_submission({"2": []}, tmp_path / "res", NAMES) / "res.zip"
        with pytest.raises(RuntimeError, match="not present in GT"):
            run_official_script(gt_zip, res_zip, OFFICIAL_DIR)


@needs_official
@pytest.mark.skipif(not (DEEPPCB_DATASET / "trainval.txt").is_file(), reason="needs the DeepPCB trainval release")
def test_check_tool_on_perturbed_real_ground_truth(repo, tmp_path):
    command = [sys.executable, "tools/check_deeppcb_official.py", "--synthetic", "--limit", "60", "--seed", "3"]
    run = subprocess.run([*command, "--out", str(tmp_path)], cwd=repo, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "DeepPCB AP (official rule)" in run.stdout and "OK: every difference" in run.stdout
    assert (tmp_path / "submission" / "res.zip").is_file() and (tmp_path / "ground_truth" / "gt.zip").is_file()
