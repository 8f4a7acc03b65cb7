"""PCB models: YOLOv8-P2 (P2-P5 heads) with and without attention, every scale, attention adds only its parameters."""

from __future__ import annotations

import copy

import pytest
import torch
import yaml
from ultralytics import YOLO
from ultralytics.nn.tasks import parse_model, yaml_model_load
from ultralytics.utils import ROOT

from yolo_attention import attention_layer_indices
from yolo_attention.arch.yaml_edit import insert_attention
from yolo_attention.resources import MODEL_CFG_DIR, find_bundled

P2_BASE = yaml.safe_load((ROOT / "cfg" / "models" / "v8" / "yolov8-p2.yaml").read_text())
BACKBONE_P2_P3_P4_P5 = [2, 4, 6, 9]  # C2f at P2/4, C2f at P3/8, C2f at P4/16, SPPF at P5/32
ATTENTION_AT = [3, 6, 9, 13]
VARIANTS = {"yolov8-pcb-cbam.yaml": "CBAM", "yolov8-pcb-eca.yaml": "ECA", "yolov8-pcb-coordatt.yaml": "CoordAtt"}
SCALES = "nsmlx"


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(scope="module")
def baseline_params():
    """Parameters of Ultralytics' yolov8{scale}-p2, its layers built by Ultralytics' parser (no stride probe)."""
    cache = {}

    def get(scale):
        if scale not in cache:
            layers, _ = parse_model(copy.deepcopy({**P2_BASE, "scale": scale}), ch=3, verbose=False)
            cache[scale] = count(layers)
        return cache[scale]

    return get


def test_four_pcb_models_are_bundled():
    names = {p.name for p in MODEL_CFG_DIR.glob("yolov8-pcb*.yaml")}
    assert names == {"yolov8-pcb.yaml", *VARIANTS}


def test_baseline_is_ultralytics_p2_unchanged():
    ours = yaml.safe_load(find_bundled("yolov8-pcb.yaml").read_text())
    assert ours["backbone"] == P2_BASE["backbone"] and ours["head"] == P2_BASE["head"]
    assert ours["scales"] == P2_BASE["scales"] and list(ours["scales"]) == list(SCALES)
    assert "attention" not in ours
    detect = ours["head"][-1]
    assert detect[2] == "Detect" and len(detect[0]) == 4  # P2, P3, P4, P5


@pytest.mark.parametrize("cfg", VARIANTS)
def test_variant_is_p2_with_attention_after_the_four_backbone_stages(cfg):
    """The files match what tools/make_pcb_model_cfgs.py writes from the installed Ultralytics' own YAML."""
    ours = yaml.safe_load(find_bundled(cfg).read_text())
    expected = insert_attention(P2_BASE, VARIANTS[cfg], after=BACKBONE_P2_P3_P4_P5)
    assert ours["backbone"] == expected["backbone"] and ours["head"] == expected["head"]
    assert ours["attention"] == {"module": VARIANTS[cfg], "after": BACKBONE_P2_P3_P4_P5}
    layers = ours["backbone"] + ours["head"]
    assert [i for i, layer in enumerate(layers) if layer[2] == VARIANTS[cfg]] == ATTENTION_AT
    assert layers[-1][0] == [22, 25, 28, 31]  # Detect still reads the four head outputs


@pytest.mark.parametrize("scale", "ns")
def test_bundled_baseline_builds_by_name_like_ultralytics_p2(scale, baseline_params):
    ours = YOLO(f"yolov8{scale}-pcb.yaml", verbose=False)
    assert ours.model.yaml["scale"] == scale and attention_layer_indices(ours) == []
    assert count(ours.model) == count(YOLO(f"yolov8{scale}-p2.yaml", verbose=False).model) == baseline_params(scale)


def check_layers(layers, scale, baseline_params):
    """Attention at the right layers with the true channels of the stage before it; only attention parameters added."""
    attention = [i for i, layer in enumerate(layers) if type(layer).__name__ in set(VARIANTS.values())]
    assert attention == ATTENTION_AT
    assert count(layers) == baseline_params(scale) + sum(count(layers[i]) for i in attention)
    for i in attention:
        assert layers[i].c1 == layers[i - 1].cv2.conv.out_channels


@pytest.mark.parametrize("scale", "nsm")
@pytest.mark.parametrize("cfg", VARIANTS)
def test_builds_through_yolo_with_attention_at_the_right_layers(cfg, scale, baseline_params):
    name = cfg.replace("yolov8", f"yolov8{scale}", 1)
    model = YOLO(name, verbose=False)
    assert model.model.yaml["scale"] == scale
    assert attention_layer_indices(model) == ATTENTION_AT
    check_layers(model.model.model, scale, baseline_params)
    assert model.model.stride.tolist() == [4.0, 8.0, 16.0, 32.0]  # four heads: P2/4 .. P5/32
    if scale == "n":  # a forward pass per variant; the larger scales share the same code path
        model.model.eval()
        with torch.no_grad():
            out = model.model(torch.zeros(1, 3, 64, 64))
        first = out[0] if isinstance(out, (list, tuple)) else out
        assert torch.isfinite(first).all()


@pytest.mark.parametrize("scale", "lx")
@pytest.mark.parametrize("cfg", VARIANTS)
def test_large_scales_build_with_attention_at_the_right_layers(cfg, scale, baseline_params):
    """l and x: the file lookup and layer parsing YOLO(...) runs, without its 256 px stride probe.

    The probe (a forward pass of the full model) is what makes an x-scale P2 model take seconds to build on CPU;
    the layers, channels and parameters checked here are exactly what YOLO(...) builds.
    """
    name = cfg.replace("yolov8", f"yolov8{scale}", 1)
    cfg_dict = yaml_model_load(name)  # resolves the bundled file by name, scale from the file name
    assert cfg_dict["scale"] == scale
    layers, _ = parse_model(copy.deepcopy(cfg_dict), ch=3, verbose=False)
    check_layers(layers, scale, baseline_params)
