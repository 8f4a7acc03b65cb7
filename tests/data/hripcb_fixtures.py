"""Writing HRIPCB fixtures in the release's layout: ``Annotations/<Class>/<stem>.xml`` beside ``images/<Class>/``."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from yolo_attention.data.hripcb import HRIPCB_CLASSES


def voc_xml(filename: str, size: tuple[int, int], objects: list[tuple[str, float, float, float, float]]) -> str:
    """A VOC annotation as labelImg writes it for PKU-Market-PCB (lower-case names, absolute path, size, pose...)."""
    w, h = size
    body = "".join(
        f"""
    <object>
        <name>{name}</name>
        <pose>Unspecified</pose>
        <truncated>0</truncated>
        <difficult>0</difficult>
        <bndbox>
            <xmin>{x1}</xmin>
            <ymin>{y1}</ymin>
            <xmax>{x2}</xmax>
            <ymax>{y2}</ymax>
        </bndbox>
    </object>"""
        for name, x1, y1, x2, y2 in objects
    )
    return f"""<annotation>
    <folder>Missing_hole</folder>
    <filename>{filename}</filename>
    <path>C:\\Users\\pcb\\PCB_DATASET\\images\\{filename}</path>
    <source>
        <database>Unknown</database>
    </source>
    <size>
        <width>{w}</width>
        <height>{h}</height>
        <depth>3</depth>
    </size>
    <segmented>0</segmented>{body}
</annotation>
"""


def board(root: Path, folder: str, stem: str, size, objects, image_suffix=".jpg", image=True, xml_size=None) -> None:
    """Write Annotations/<folder>/<stem>.xml and images/<folder>/<stem><suffix> as the release lays them out."""
    (root / "Annotations" / folder).mkdir(parents=True, exist_ok=True)
    (root / "images" / folder).mkdir(parents=True, exist_ok=True)
    xml = voc_xml(f"{stem}.jpg", xml_size or size, objects)
    (root / "Annotations" / folder / f"{stem}.xml").write_text(xml)
    if image:
        Image.new("RGB", size, (40, 120, 40)).save(root / "images" / folder / f"{stem}{image_suffix}")


BOARDS = ("01", "04", "05", "06", "07", "08", "09", "10", "11", "12")  # the release's ten boards


def write_many_boards(root: Path) -> Path:
    """The release in small: ten boards, every defect type on each (board 01 twice as often as the others).

    Photo ``NN_<defect>_MM`` has 1-3 boxes of its folder's class; every fifth photo one more box of another class.
    """
    n = 0
    for c, name in enumerate(HRIPCB_CLASSES):
        for b in BOARDS:
            for k in range(4 if b == "01" else 2):
                objects = [(name.lower(), 4 + 10 * j, 4, 12 + 10 * j, 12) for j in range(1 + k % 3)]
                n += 1
                if n % 5 == 0:  # a second class, never the photo's main one
                    objects.append((HRIPCB_CLASSES[(c + 1) % 6], 40, 20, 50, 30))
                board(root, name, f"{b}_{name.lower()}_{k + 1:02d}", (64, 48), objects)
    return root


N_PHOTOS = 6 * (4 + 9 * 2)
