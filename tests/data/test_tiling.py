"""Tiling maths: tile offsets equal sahi's slices, boxes clipped to tiles and kept by their visible fraction."""

from __future__ import annotations

import numpy as np
import pytest

from yolo_attention.data.tiling import boxes_in_tile, clip_box_to_tile, tile_regions, tile_starts


class TestTiling:
    @pytest.mark.parametrize(
        "length,tile,overlap,starts",
        [(1600, 640, 0.2, [0, 512, 960]), (1200, 640, 0.2, [0, 512, 560]), (1152, 640, 0.2, [0, 512]),
         (640, 640, 0.2, [0]), (300, 640, 0.2, [0]), (1280, 640, 0.0, [0, 640])],
    )  # fmt: skip
    def test_tile_starts_cover_the_side(self, length, tile, overlap, starts):
        assert tile_starts(length, tile, overlap) == starts
        assert starts[-1] + min(tile, length) == length

    def test_tile_starts_are_sahis_slices(self):
        from sahi.slicing import get_slice_bboxes

        boxes = get_slice_bboxes(1586, 3034, 640, 640, False, 0.2, 0.2)
        assert sorted({b[0] for b in boxes}) == tile_starts(3034, 640, 0.2)
        assert sorted({b[1] for b in boxes}) == tile_starts(1586, 640, 0.2)

    def test_tile_regions_cover_every_pixel_row_by_row(self):
        regions = tile_regions(1600, 1200, 640, 0.2)
        assert len(regions) == 9 and regions[0] == (0, 0, 640, 640) and regions[-1] == (960, 560, 1600, 1200)
        assert [r[1] for r in regions] == sorted(r[1] for r in regions)  # rows top to bottom
        covered = np.zeros((1200, 1600), dtype=bool)
        for x0, y0, x1, y1 in regions:
            assert x1 - x0 == y1 - y0 == 640
            covered[y0:y1, x0:x1] = True
        assert covered.all()
        assert tile_regions(300, 200, 640, 0.2) == [(0, 0, 300, 200)]  # a small photo is one smaller tile

    def test_box_on_a_tile_border_is_clipped_with_its_visible_fraction(self):
        clipped, visible = clip_box_to_tile((600, 100, 700, 140), (0, 0, 640, 640))
        assert clipped == (600, 100, 640, 140) and visible == pytest.approx(0.4)
        clipped, visible = clip_box_to_tile((600, 100, 700, 140), (512, 0, 1152, 640))
        assert clipped == (88, 100, 188, 140) and visible == 1.0
        assert clip_box_to_tile((700, 100, 800, 140), (0, 0, 640, 640)) == (None, 0.0)

    def test_boxes_in_tile_keep_by_visible_fraction(self):
        boxes = [(3, 600, 100, 700, 140), (5, 580, 300, 680, 340), (2, 1500, 1100, 1560, 1160), (1, 590, 0, 690, 10)]
        kept, dropped = boxes_in_tile(boxes, (0, 0, 640, 640), 0.5)
        assert kept == [(5, 580, 300, 640, 340), (1, 590, 0, 640, 10)]  # 60 % and exactly 50 % visible, tile pixels
        assert dropped == 1  # 40 % visible; the box wholly outside does not count
        kept, dropped = boxes_in_tile(boxes, (512, 0, 1152, 640), 0.5)
        assert [b[0] for b in kept] == [3, 5, 1] and dropped == 0
