"""The attention-free baseline: the bundled YAMLs minus their attention are Ultralytics' own, with the same weights."""

from __future__ import annotations

import pytest
import torch

import yolo_attention
from tests.export.export_cases import ATTENTION_CFGS, DETECT_CFGS, POSE_CFGS, scaled, yolo
from yolo_attention.export import build_baseline, kept_layers, remove_attention


class TestRemoveAttention:
    def test_every_bundled_variant_was_found(self):
        assert {"yolov8-cbam.yaml", "yolov8-eca.yaml", "yolov8-coordatt.yaml", "yolov8-se.yaml"} <= set(DETECT_CFGS)
        assert "yolov8-ecasam.yaml" in DETECT_CFGS and len(POSE_CFGS) >= 5

    # yolov8-face-ecasam-lite has its own (narrower) scales and no bundled attention-free twin
    @pytest.mark.parametrize("cfg", [c for c in ATTENTION_CFGS if not c.endswith("-lite.yaml")])
    def test_bundled_model_minus_attention_is_its_baseline(self, cfg):
        from ultralytics.nn.tasks import yaml_model_load

        model = yaml_model_load(scaled(cfg))
        base = yaml_model_load(scaled(cfg.rsplit("-", 1)[0] + ".yaml"))  # yolov8-pcb-cbam -> yolov8-pcb
        out = remove_attention(model)
        assert out["backbone"] == base["backbone"] and out["head"] == base["head"]
        assert "attention" not in out
        layers = model["backbone"] + model["head"]
        attention = [i for i, layer in enumerate(layers) if layer[2] in yolo_attention.MODULES]
        # three attention layers (P3, P4, P5); yolov8-glsa two (P4, P5)
        assert len(attention) >= 2 and kept_layers(model) == [i for i in range(len(layers)) if i not in attention]

    def test_round_trip_with_insert_attention_at_other_places(self):
        from yolo_attention.arch.yaml_edit import insert_attention

        base = yolo("yolov8n.yaml").model.yaml
        cfg = {k: v for k, v in base.items() if k in ("nc", "scales", "backbone", "head")}
        for after in ([0], [2, 14], [9, 12, 15, 18, 21]):
            assert remove_attention(insert_attention(cfg, "CBAM", after)) == cfg

    def test_attention_reading_attention_and_custom_names(self):
        cfg = {
            "backbone": [[-1, 1, "Conv", [16, 3, 2]], [-1, 1, "ECA", []], [-1, 1, "SE", []]],
            "head": [[[-1, 0], 1, "Concat", [1]], [[1, 3], 1, "Concat", [1]]],
        }
        out = remove_attention(cfg)
        assert out["backbone"] == [[-1, 1, "Conv", [16, 3, 2]]]
        assert out["head"] == [[[-1, 0], 1, "Concat", [1]], [[0, 1], 1, "Concat", [1]]]  # absolute stays absolute
        assert remove_attention(cfg, modules={"SE"})["backbone"][1] == [-1, 1, "ECA", []]

    def test_multi_input_attention_is_refused(self):
        cfg = {"backbone": [[-1, 1, "Conv", [16, 3, 2]], [[-1, 0], 1, "ECA", []]], "head": []}
        with pytest.raises(ValueError, match="must read one input"):
            remove_attention(cfg)

    def test_baseline_computes_what_the_model_computes_with_attention_off(self, tmp_path, pcb_batch):
        model = yolo("yolov8n-cbam.yaml")
        base = build_baseline(model, tmp_path)
        assert yolo_attention.attention_layer_indices(base) == []
        # switched off, CBAM is an exact identity: the rest must be the same weights
        yolo_attention.set_attention(model.model, {"CBAM": False})
        with torch.inference_mode():
            expected = model.model.eval()(pcb_batch[:2])[0]
            got = base.model.eval()(pcb_batch[:2])[0]
        assert torch.equal(expected, got)
