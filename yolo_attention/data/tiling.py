"""Tiling large photos into overlapping square tiles, the way sahi slices them at prediction time, with their boxes.

A detector trained on tiles sees defects at the scale it will meet them when ``predict slice=640`` cuts a full board
into the same tiles, so the tile offsets here follow sahi's ``get_slice_bboxes`` (checked by a test).
"""

from __future__ import annotations

from collections.abc import Iterable

from yolo_attention.data.yolo_labels import Box

__all__ = ["boxes_in_tile", "clip_box_to_tile", "tile_regions", "tile_starts"]


def tile_starts(length: int, tile: int, overlap: float) -> list[int]:
    """Start offsets of overlapping tiles along one side, the last tile flush with the far edge (as sahi slices).

    Consecutive tiles overlap by ``int(overlap * tile)`` pixels, except the last one, which is moved back so it ends
    at ``length`` (overlapping more). A side no longer than a tile gets one tile at 0 (the tile is then smaller).

    Args:
        length (int): Image side in pixels.
        tile (int): Tile side in pixels.
        overlap (float): Overlap between neighbouring tiles as a fraction of ``tile``, in [0, 1).

    Returns:
        (list[int]): Start offsets, ascending.

    Examples:
        >>> tile_starts(1600, 640, 0.2)
        [0, 512, 960]
        >>> tile_starts(500, 640, 0.2)
        [0]
    """
    if length <= tile:
        return [0]
    stride = tile - int(overlap * tile)
    return list(range(0, length - tile, stride)) + [length - tile]


def tile_regions(width: int, height: int, tile: int, overlap: float) -> list[tuple[int, int, int, int]]:
    """Every tile of an image as ``(x0, y0, x1, y1)`` in pixels, row by row; tiles are cut at the image's edge.

    Args:
        width (int): Image width in pixels.
        height (int): Image height in pixels.
        tile (int): Tile side in pixels.
        overlap (float): Overlap between neighbouring tiles as a fraction of ``tile``, in [0, 1).

    Returns:
        (list[tuple[int, int, int, int]]): Tile regions, rows top to bottom, each row left to right.

    Examples:
        >>> tile_regions(1000, 500, 640, 0.2)
        [(0, 0, 640, 500), (360, 0, 1000, 500)]
    """
    return [
        (x0, y0, min(x0 + tile, width), min(y0 + tile, height))
        for y0 in tile_starts(height, tile, overlap)
        for x0 in tile_starts(width, tile, overlap)
    ]


def clip_box_to_tile(
    box: tuple[float, float, float, float], tile: tuple[int, int, int, int]
) -> tuple[tuple[float, float, float, float] | None, float]:
    """Clip a board box to a tile; return the box in tile coordinates and the fraction of its area still visible.

    Args:
        box (tuple[float, float, float, float]): ``(x1, y1, x2, y2)`` in board pixels.
        tile (tuple[int, int, int, int]): ``(x0, y0, x1, y1)`` of the tile in board pixels.

    Returns:
        (tuple): ``((x1, y1, x2, y2) in tile pixels, visible fraction)``, or ``(None, 0.0)`` when nothing is visible.

    Examples:
        >>> clip_box_to_tile((600, 100, 680, 140), (0, 0, 640, 640))
        ((600, 100, 640, 140), 0.5)
    """
    x1, y1, x2, y2 = box
    tx1, ty1, tx2, ty2 = tile
    cx1, cy1, cx2, cy2 = max(x1, tx1), max(y1, ty1), min(x2, tx2), min(y2, ty2)
    if cx2 <= cx1 or cy2 <= cy1:
        return None, 0.0
    area = (x2 - x1) * (y2 - y1)
    visible = (cx2 - cx1) * (cy2 - cy1) / area if area > 0 else 0.0
    return (cx1 - tx1, cy1 - ty1, cx2 - tx1, cy2 - ty1), visible


def boxes_in_tile(
    boxes: Iterable[Box], region: tuple[int, int, int, int], min_visibility: float
) -> tuple[list[Box], int]:
    """The boxes to label in one tile: those with at least ``min_visibility`` of their area inside, clipped to it.

    Args:
        boxes (Iterable[Box]): ``(class, x1, y1, x2, y2)`` in board pixels.
        region (tuple[int, int, int, int]): ``(x0, y0, x1, y1)`` of the tile in board pixels.
        min_visibility (float): Least visible fraction of a box's area, in (0, 1].

    Returns:
        (tuple[list[Box], int]): The kept boxes in tile pixels, and how many boxes touched the tile but showed too
        little of themselves (boxes wholly outside do not count).

    Examples:
        >>> boxes_in_tile([(0, 600, 100, 680, 140), (1, 620, 0, 720, 40)], (0, 0, 640, 640), 0.5)
        ([(0, 600, 100, 640, 140)], 1)
    """
    kept, dropped = [], 0
    for cls, *xyxy in boxes:
        clipped, visible = clip_box_to_tile(tuple(xyxy), region)
        if clipped is None:
            continue
        if visible + 1e-9 < min_visibility:  # a box exactly at the threshold is kept despite float rounding
            dropped += 1
            continue
        kept.append((cls, *clipped))
    return kept, dropped
