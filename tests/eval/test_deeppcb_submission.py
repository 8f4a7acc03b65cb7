"""DeepPCB's file formats: the release's line rule, member names, and write -> read round trips."""

from __future__ import annotations

import re
import zipfile

import pytest

from tests.eval.deeppcb_cases import NAMES, random_case
from yolo_attention.eval.deeppcb import (
    evaluate_deeppcb,
    ground_truth_rows,
    read_ground_truth,
    read_submission,
    submission_lines,
    submission_rows,
    write_ground_truth,
    write_submission,
)

# The release script's regular expressions for LTRB lines, copied from rrc_evaluation_funcs.py.
RELEASE_LINE = re.compile(
    r"^\s*(-?[0-9]+)\s*,\s*(-?[0-9]+)\s*,\s*([0-9]+)\s*,\s*([0-9]+)\s*,\s*([0-1].?[0-9]*)\s*,(.*)$"
)
RELEASE_GT_LINE = re.compile(r"^\s*(-?[0-9]+)\s*,\s*(-?[0-9]+)\s*,\s*([0-9]+)\s*,\s*([0-9]+)\s*,(.*)$")


class TestLines:
    def test_lines_follow_the_release_format(self):
        rows = [(10.4, 20.6, 50.5, 80.0, 0.91234567, 2), (-3.2, 4, 9.6, 7, 1e-05, 5), (0, 0, 5, 5, 1.0, "open")]
        lines = submission_lines(rows, NAMES)
        assert lines == ["10,21,51,80,0.912346,mousebite", "0,4,10,7,0.000010,pin-hole", "0,0,5,5,1.000000,open"]
        assert all(RELEASE_LINE.match(line) and " " not in line for line in lines)

    def test_submission_rows_are_what_the_script_reads(self):
        rows = [(0.4, 1, 9.5, 9, 0.30000004, 0), (0, 0, 5, 5, 0.9, 1), (3, 3, 1, 1, 1.7, "spur"), (0, 0, 1, 1, 0.1, 2)]
        assert submission_rows(rows, NAMES, conf=0.2) == [
            (3, 3, 3, 3, 1.0, "spur"),  # x2 < x1 clipped, confidence clipped to 1
            (0, 0, 5, 5, 0.9, "short"),
            (0, 1, 10, 9, 0.3, "open"),
        ]

    def test_types_must_be_plain_names(self):
        with pytest.raises(ValueError, match="without commas"):
            submission_lines([(0, 0, 1, 1, 0.5, "spurious copper")])
        with pytest.raises(ValueError, match="out of range"):
            submission_lines([(0, 0, 1, 1, 0.5, 6)], NAMES)


class TestRoundTrip:
    def test_submission_zip_reads_back_equal(self, tmp_path):
        gt, det = random_case(3)
        det = {k: [(x1 + 0.4, y1 - 0.3, x2 + 0.2, y2, c, cls) for x1, y1, x2, y2, c, cls in rows]
               for k, rows in det.items()}  # fmt: skip
        folder = write_submission(det, tmp_path / "submission", NAMES)
        with zipfile.ZipFile(folder / "res.zip") as archive:
            assert archive.namelist() == [f"{k}.txt" for k in det]  # flat: no sub-folder
        expected = {k: submission_rows(rows, NAMES) for k, rows in det.items()}
        assert read_submission(folder / "res.zip") == expected == read_submission(folder)
        for text in (p.read_text() for p in folder.glob("*.txt")):
            assert all(RELEASE_LINE.match(line) for line in text.splitlines())
        again = evaluate_deeppcb(gt, read_submission(folder / "res.zip"), NAMES, as_submitted=False)
        first = evaluate_deeppcb(gt, det, NAMES)
        assert (again.ap, again.precision, again.recall, again.fscore) == (first.ap, first.precision, first.recall,
                                                                           first.fscore)  # fmt: skip

    def test_ground_truth_zip_reads_back_equal(self, tmp_path):
        gt, _ = random_case(4)
        folder = write_ground_truth(gt, tmp_path / "gt", NAMES)
        with zipfile.ZipFile(folder / "gt.zip") as archive:
            assert archive.namelist() == [f"{k}.txt" for k in gt]
            assert all(RELEASE_GT_LINE.match(x) for n in archive.namelist() for x in archive.read(n).decode().split())
        assert read_ground_truth(folder / "gt.zip") == {k: ground_truth_rows(v, NAMES) for k, v in gt.items()}

    def test_conf_threshold_and_empty_files(self, tmp_path):
        folder = write_submission({"1": [(0, 0, 5, 5, 0.2, 0)], "2": []}, tmp_path / "s", NAMES, conf=0.25)
        assert (folder / "1.txt").read_text() == "" and (folder / "2.txt").read_text() == ""
        assert read_submission(folder / "res.zip") == {"1": [], "2": []}


class TestReading:
    def test_read_as_the_script_reads(self, tmp_path):
        with zipfile.ZipFile(tmp_path / "res.zip", "w") as archive:
            archive.writestr("0001.txt", '\ufeff1, 2 ,3,4, 0.5 ,"open"\r\n5,6,7,8,1,short\n\n9,9,9,9,0.25, spur')
        assert read_submission(tmp_path / "res.zip") == {
            "0001": [(1, 2, 3, 4, 0.5, "open"), (5, 6, 7, 8, 1.0, "short"), (9, 9, 9, 9, 0.25, " spur")]
        }

    def test_member_names(self, tmp_path):
        with zipfile.ZipFile(tmp_path / "gt.zip", "w") as archive:
            archive.writestr("00041000.txt", "1,2,3,4,open\n")
            archive.writestr("readme.md", "not a sample")
        assert read_ground_truth(tmp_path / "gt.zip") == {"00041000": [(1, 2, 3, 4, "open")]}  # others ignored
        with zipfile.ZipFile(tmp_path / "res.zip", "w") as archive:
            archive.writestr("sub/00041000.txt", "")
        with pytest.raises(ValueError, match="not named <digits>.txt"):
            read_submission(tmp_path / "res.zip")

    @pytest.mark.parametrize(
        "line", ["1.5,2,3,4,0.5,open", "1,2,-3,4,0.5,open", "1,2,3,4,1e-5,open", "5,2,3,4,0.5,open", "1,2,3,4,open"]
    )
    def test_lines_the_script_refuses(self, tmp_path, line):
        (tmp_path / "bad").mkdir()
        (tmp_path / "bad" / "1.txt").write_text(line + "\n")
        with pytest.raises(ValueError, match="1.txt"):
            read_submission(tmp_path / "bad")

    def test_missing_and_bad_ids(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="not found"):
            read_submission(tmp_path / "nothing.zip")
        with pytest.raises(ValueError, match="bare file stem"):
            write_submission({"x/1": []}, tmp_path / "s", NAMES)
