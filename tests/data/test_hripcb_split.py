"""HRIPCB split by board: no board in two splits, stratified as far as boards allow, reproducible by seed."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.data.hripcb_fixtures import BOARDS, N_PHOTOS, write_many_boards
from yolo_attention.data.hripcb import convert_hripcb, split_by_board
from yolo_attention.data.hripcb_voc import board_id


@pytest.fixture(scope="module")
def many_boards(tmp_path_factory) -> Path:
    return write_many_boards(tmp_path_factory.mktemp("many") / "PCB_DATASET")


def split_of(out: Path) -> dict[str, str]:
    return {p.stem: p.parent.name for p in (out / "labels").rglob("*.txt")}


class TestSplitByBoard:
    def test_no_board_in_two_splits(self, many_boards, tmp_path):
        out = tmp_path / "a"
        report = convert_hripcb(many_boards, out, tile=0, val=0.15, test=0.15, seed=0, progress=False)
        splits = split_of(out)
        assert len(splits) == N_PHOTOS
        owner = {}
        for stem, split in splits.items():
            assert owner.setdefault(board_id(stem), split) == split, f"board {board_id(stem)} in two splits"
        assert sorted(b for bs in report.boards.values() for b in bs) == list(BOARDS)
        assert {s: sorted(b for b, o in owner.items() if o == s) for s in report.splits} == report.boards
        assert all(report.boards[s] for s in ("train", "val", "test"))  # ten boards are enough for every split
        assert sum(report.photos.values()) == N_PHOTOS
        assert "whole boards" in report.split_rule and "whole boards" in report.summary()

    def test_stratified_as_far_as_boards_allow(self, many_boards, tmp_path):
        out = tmp_path / "a"
        report = convert_hripcb(many_boards, out, tile=0, val=0.15, test=0.15, seed=0, progress=False)
        for split, share in (("train", 0.7), ("val", 0.15), ("test", 0.15)):
            assert abs(report.photos[split] - share * N_PHOTOS) <= 4 * 6, (split, report.photos)  # a board 01 apart
            # Every board shows every defect type equally often, so each split holds them all, in equal numbers.
            photos_per_class = Counter(
                stem.split("_", 1)[1].rsplit("_", 1)[0] for stem, s in split_of(out).items() if s == split
            )
            assert len(photos_per_class) == 6 and len(set(photos_per_class.values())) == 1, (split, photos_per_class)

    def test_reproducible_by_seed(self, many_boards, tmp_path):
        for name, seed in (("a", 0), ("b", 0), ("c", 1)):
            convert_hripcb(many_boards, tmp_path / name, tile=0, seed=seed, progress=False)
        a, b, c = (split_of(tmp_path / n) for n in "abc")
        assert a == b and len(a) == N_PHOTOS
        assert a != c

    def test_tiles_of_a_photo_stay_in_its_split(self, many_boards, tmp_path):
        out = tmp_path / "tiles"
        convert_hripcb(many_boards, out, tile=32, overlap=0.0, seed=0, progress=False)
        photo_split, board_split = {}, {}
        for stem, split in split_of(out).items():
            photo, _, _ = stem.rsplit("_", 2)  # <photo>_<x0>_<y0>
            assert photo_split.setdefault(photo, split) == split, f"tiles of {photo} in two splits"
            assert board_split.setdefault(board_id(photo), split) == split, f"board {board_id(photo)} in two splits"
        assert len(photo_split) == N_PHOTOS and len(board_split) == len(BOARDS)

    def test_split_by_board_function(self, many_boards):
        from yolo_attention.data.hripcb_report import HRIPCBReport
        from yolo_attention.data.hripcb_voc import annotation_files, read_photos

        photos = read_photos(many_boards, annotation_files(many_boards), HRIPCBReport(out=Path(".")), progress=False)
        parts = split_by_board(photos, val=0.2, test=0.0, seed=4)
        assert parts["test"] == [] and parts == split_by_board(list(reversed(photos)), val=0.2, test=0.0, seed=4)
        boards = {split: {p.board for p in part} for split, part in parts.items()}
        assert not boards["train"] & boards["val"] and boards["val"]

    def test_a_new_seed_in_the_same_folder_leaves_no_stale_board(self, many_boards, tmp_path):
        out = tmp_path / "same"
        convert_hripcb(many_boards, out, tile=0, seed=0, progress=False)
        (out / "labels" / "train.cache").write_text("stale")
        convert_hripcb(many_boards, out, tile=0, seed=1, test=0.0, progress=False)
        n_labels, n_images = len(list((out / "labels").rglob("*.txt"))), len(list((out / "images").rglob("*.jpg")))
        assert n_labels == n_images == N_PHOTOS
        assert not (out / "labels" / "train.cache").exists()
        assert not list((out / "images" / "test").glob("*.jpg"))  # test=0 now: the old test photos are gone
