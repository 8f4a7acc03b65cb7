from __future__ import annotations

import yaml

from yolo_attention.cli.val_cmd import protocol_for


def test_protocol_is_chosen_from_the_data(tmp_path, repo):
    assert protocol_for("pcb-mini.yaml") == "deeppcb"  # DeepPCB's six classes
    (tmp_path / "images").mkdir()
    other = {"path": str(tmp_path), "train": "images", "val": "images", "names": {0: "face"}}
    (tmp_path / "faces.yaml").write_text(yaml.safe_dump(other))
    assert protocol_for(str(tmp_path / "faces.yaml")) == "ultralytics"
