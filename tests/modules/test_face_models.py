"""Face models: YOLOv8-pose with one class and five keypoints, with and without ECA->SAM, and the lite one's budget."""

from __future__ import annotations

import pytest
import torch
import yaml
from ultralytics import YOLO
from ultralytics.nn.tasks import yaml_model_load
from ultralytics.utils import ROOT
from ultralytics.utils.torch_utils import get_flops

from yolo_attention import attention_layer_indices
from yolo_attention.arch.yaml_edit import insert_attention
from yolo_attention.resources import find_bundled

FACE_CFGS = ("yolov8-face.yaml", "yolov8-face-ecasam.yaml", "yolov8-face-ecasam-lite.yaml")
POSE_BASE = yaml.safe_load((ROOT / "cfg" / "models" / "v8" / "yolov8-pose.yaml").read_text())
FEATHERFACE_BUDGET = 500_000  # parameters


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def load(cfg: str) -> dict:
    return yaml.safe_load(find_bundled(cfg).read_text())


def test_layers_are_ultralytics_pose_with_ecasam_inserted():
    face, ecasam, lite = (load(c) for c in FACE_CFGS)
    for cfg in (face, ecasam, lite):
        assert cfg["nc"] == 1 and cfg["kpt_shape"] == [5, 3] and cfg["head"][-1][2] == "Pose"
    assert face["backbone"] == POSE_BASE["backbone"] and face["head"] == POSE_BASE["head"]
    assert face["scales"] == POSE_BASE["scales"] and "attention" not in face
    expected = insert_attention(POSE_BASE, "ECASAM", after=[4, 6, 9])
    assert ecasam["backbone"] == expected["backbone"] and ecasam["head"] == expected["head"]
    assert lite["backbone"] == ecasam["backbone"] and lite["head"] == ecasam["head"]
    # lite: half the usual width at every scale, the deepest stages capped at 384 x width
    assert {s: row[:2] for s, row in lite["scales"].items()} == {
        s: [row[0], row[1] / 2] for s, row in POSE_BASE["scales"].items()
    }


@pytest.mark.parametrize("cfg", FACE_CFGS)
def test_resolves_at_every_scale(cfg):
    for scale in "nsmlx":
        name = cfg.replace("yolov8", f"yolov8{scale}", 1)
        assert yaml_model_load(name)["scale"] == scale, name


@pytest.mark.parametrize("scale", "ns")  # l and x take long to build; the sweep above resolves them
@pytest.mark.parametrize("cfg", FACE_CFGS)
def test_builds_and_runs(cfg, scale):
    model = YOLO(cfg.replace("yolov8", f"yolov8{scale}", 1), verbose=False)
    assert model.model.yaml["scale"] == scale and model.task == "pose"
    assert list(model.model.kpt_shape) == [5, 3] and len(model.model.names) == 1
    assert attention_layer_indices(model) == ([] if cfg == "yolov8-face.yaml" else [5, 8, 12])
    model.model.eval()
    with torch.no_grad():
        out = model.model(torch.zeros(1, 3, 64, 64))
    first = out[0] if isinstance(out, (list, tuple)) else out
    assert first.shape[1] == 4 + 1 + 15 and torch.isfinite(first).all()


def test_ecasam_adds_only_attention_parameters():
    face, ecasam = YOLO("yolov8n-face.yaml").model, YOLO("yolov8n-face-ecasam.yaml").model
    attention = sum(count(ecasam.model[i]) for i in (5, 8, 12))
    assert count(ecasam) == count(face) + attention and 0 < attention < 1000


def test_lite_is_within_the_featherface_budget():
    model = YOLO("yolov8n-face-ecasam-lite.yaml").model
    params, gflops = count(model), get_flops(model, imgsz=640)
    assert 400_000 < params <= FEATHERFACE_BUDGET  # 487,161 with Ultralytics 8.4
    assert gflops < 3.0  # 2.41 at 640x640 with Ultralytics 8.4
    assert count(YOLO("yolov8n-face-ecasam.yaml").model) > 6 * params
