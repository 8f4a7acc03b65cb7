"""Sweep: every bundled model YAML at every scale builds through YOLO(...), runs, and adds only attention parameters."""

from __future__ import annotations

import pytest
import torch
import yaml
from ultralytics import YOLO
from ultralytics.utils import ROOT

from yolo_attention import attention_layer_indices
from yolo_attention.arch.yaml_edit import insert_attention
from yolo_attention.resources import bundled_model_cfgs

CFGS = [p.name for p in bundled_model_cfgs() if "-pcb" not in p.name and "-face" not in p.name]  # PCB, face: own tests
SCALES = "nsmlx"


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(scope="module")
def baselines():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = count(YOLO(name, verbose=False).model)
        return cache[name]

    return get


ATTENDED = {"yolov8-glsa.yaml": [6, 9]}  # original layers attended; the others: [4, 6, 9] (P3, P4, P5)


def test_bundle_has_nine_detect_and_five_pose_models():
    assert len(CFGS) == 14
    kinds = ("cbam", "eca", "coordatt", "se", "ecasam")
    assert {c for c in CFGS if "-pose" in c} == {f"yolov8-pose-{m}.yaml" for m in kinds}
    new = ("bam", "scse", "simam", "glsa")  # detection only
    assert {c for c in CFGS if "-pose" not in c} == {f"yolov8-{m}.yaml" for m in kinds + new}


@pytest.mark.parametrize("cfg", CFGS)
def test_bundled_yaml_is_the_ultralytics_baseline_with_attention_inserted(cfg):
    """The files match what tools/make_model_cfgs.py writes from the installed Ultralytics' own YAML."""
    ours = yaml.safe_load(next(p for p in bundled_model_cfgs() if p.name == cfg).read_text())
    base_name = "yolov8-pose.yaml" if "-pose" in cfg else "yolov8.yaml"
    base = yaml.safe_load((ROOT / "cfg" / "models" / "v8" / base_name).read_text())
    after = ATTENDED.get(cfg, [4, 6, 9])
    assert ours["attention"]["after"] == after
    expected = insert_attention(base, ours["attention"]["module"], after=after)
    assert ours["backbone"] == expected["backbone"] and ours["head"] == expected["head"]
    assert list(ours["scales"]) == list("nsmlx")


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("cfg", CFGS)
def test_every_bundled_model_builds_runs_and_adds_only_attention_parameters(cfg, scale, baselines):
    name = cfg.replace("yolov8", f"yolov8{scale}", 1)
    model = YOLO(name, verbose=False)
    assert model.model.yaml["scale"] == scale
    layers = model.model.model
    attention = attention_layer_indices(model)
    assert attention == [i + 1 + n for n, i in enumerate(ATTENDED.get(cfg, [4, 6, 9]))]  # [5, 8, 12], GLSA [7, 11]
    base = baselines(f"yolov8{scale}{'-pose' if '-pose' in cfg else ''}.yaml")
    assert count(model.model) == base + sum(count(layers[i]) for i in attention)
    for i in attention:  # each attention layer got the channels of the layer before it
        previous = layers[i - 1]
        c_out = previous.cv2.conv.out_channels
        assert layers[i].c1 == c_out
    model.model.eval()
    with torch.no_grad():
        out = model.model(torch.zeros(1, 3, 64, 64))
    first = out[0] if isinstance(out, (list, tuple)) else out
    assert torch.isfinite(first).all()
