"""`yolo-attn explain`: maps are the modules' own weights, one PNG per attention layer, off means all ones."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import cv2
import pytest
import torch
from click.testing import CliRunner
from torch import nn

import yolo_attention  # noqa: F401  registers the modules and the bundled YAMLs
from yolo_attention.cli.explain_cmd import explain as explain_command
from yolo_attention.explain import capture_attention, explain, parse_query, select_layers, spatial_map, to_image
from yolo_attention.modules import BAM, CBAM, ECA, ECASAM, GLSA, SAM, SE, CoordAtt, SimAM, scSE

REPO = Path(__file__).resolve().parents[2]
IMAGE = REPO / "datasets" / "pcb-mini" / "images" / "val" / "00041124.jpg"
HAS_GRAD_CAM = importlib.util.find_spec("pytorch_grad_cam") is not None


def cbam_yolo():
    from ultralytics import YOLO

    torch.manual_seed(0)
    return YOLO("yolov8n-cbam.yaml")


def expected_records(m: nn.Module, x: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
    """(kind, weights) each part of `m` computes on `x`, from the modules' own methods."""
    if isinstance(m, CBAM):
        return [("channel", m.channel.weights(x)), ("spatial", m.spatial.weights(m.channel(x)))]
    if isinstance(m, ECASAM):
        return [("channel", m.eca.weights(x)), ("spatial", m.sam.weights(m.eca(x)))]
    if isinstance(m, CoordAtt):
        a_h, a_w = m.weights(x)
        return [("full", a_h * a_w)]
    if isinstance(m, scSE):
        return [("channel", m.channel_weights(x)), ("spatial", m.spatial_weights(x))]
    if isinstance(m, GLSA):  # the query at (0.5, 0.5) of a 12 x 10 map: row 6, column 5
        s, (h, w) = m.kv_stride, x.shape[-2:]
        row = m.attention.attention_weights(x, x)[:, :, 6 * w + 5].reshape(x.shape[0], m.heads, -(-h // s), -(-w // s))
        query = row.repeat_interleave(s, -2).repeat_interleave(s, -1)[..., :h, :w]
        return [("query", query), *expected_records(m.local, x + m.attention(x, x))]
    kind = {SE: "channel", ECA: "channel", SAM: "spatial", BAM: "full", SimAM: "full"}[type(m)]
    return [(kind, m.weights(x))]


MODULES = [
    lambda: SE(16),
    lambda: ECA(16),
    lambda: SAM(16),
    lambda: CBAM(16, reduction=4),
    lambda: ECASAM(16),
    lambda: CoordAtt(16),
    lambda: BAM(16),
    lambda: scSE(16),
    lambda: SimAM(16),
    lambda: GLSA(16, heads=4),
]
IDS = ["SE", "ECA", "SAM", "CBAM", "ECASAM", "CoordAtt", "BAM", "scSE", "SimAM", "GLSA"]


class TestCapture:
    """The records are what the modules compute, taken from hooks on their gates; nothing is recomputed."""

    @pytest.mark.parametrize("factory", MODULES, ids=IDS)
    @pytest.mark.parametrize("batch", [1, 2])
    def test_records_equal_the_modules_own_weights(self, factory, batch):
        torch.manual_seed(0)
        m = factory()
        model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), m).eval()
        seen = []
        m.register_forward_pre_hook(lambda _m, args: seen.append(args[0]))
        layers = capture_attention(model, torch.rand(batch, 3, 12, 10))
        assert [layer.index for layer in layers] == [1]
        records = layers[0].records
        with torch.no_grad():
            expected = expected_records(m, seen[0])
        assert [r.kind for r in records] == [kind for kind, _ in expected]
        for record, (_, weights) in zip(records, expected):
            assert record.enabled and record.weights.shape == weights.shape
            torch.testing.assert_close(record.weights, weights, rtol=0, atol=0)

    @pytest.mark.parametrize("factory", MODULES, ids=IDS)
    def test_switched_off_module_gives_exactly_ones(self, factory):
        m = factory()
        m.enabled = False
        model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), m).eval()
        x = torch.rand(2, 3, 12, 10)
        on = capture_attention(nn.Sequential(model[0], factory()).eval(), x)[0].records
        records = capture_attention(model, x)[0].records
        assert [r.kind for r in records] == [r.kind for r in on]
        for record, reference in zip(records, on):
            assert not record.enabled and record.weights.shape == reference.weights.shape
            assert torch.equal(record.weights, torch.ones_like(reference.weights))
            grid = spatial_map(record)
            if grid is not None:
                assert (to_image(grid[:1], (12, 10), (24, 20)) == 1).all()

    def test_half_of_cbam_switched_off(self):
        m = CBAM(16, reduction=4)
        m.spatial.enabled = False
        channel, spatial = capture_attention(nn.Sequential(m).eval(), torch.rand(1, 16, 8, 8))[0].records
        assert channel.enabled and not torch.equal(channel.weights, torch.ones_like(channel.weights))
        assert not spatial.enabled and torch.equal(spatial.weights, torch.ones(1, 1, 8, 8))

    def test_residual_gate_is_reported(self):
        m = SE(16).enable_residual_gate(0.25)
        layer = capture_attention(nn.Sequential(m).eval(), torch.rand(1, 16, 4, 4))[0]
        assert layer.residual_gates == {"": 0.25}


class TestArguments:
    def test_layers_must_be_attention_layers(self):
        model = nn.Sequential(nn.Conv2d(3, 8, 1), CBAM(8), nn.Conv2d(8, 8, 1), SE(8))
        assert select_layers(model) == [1, 3] and select_layers(model, "3") == [3]
        with pytest.raises(ValueError, match=r"\[2\] not attention layers of this model; its attention layers: \[1, 3"):
            select_layers(model, [1, 2])

    @pytest.mark.parametrize("query", ["0.5", "a,b", (0.5, 1.5)])
    def test_bad_query(self, query):
        with pytest.raises(ValueError, match="query must be x,y"):
            parse_query(query)


class TestExplain:
    """On a tiny random-weight yolov8n-cbam at imgsz 64, one real pcb-mini image."""

    def test_one_map_per_attention_layer(self, tmp_path):
        model = cbam_yolo()
        indices = yolo_attention.attention_layer_indices(model)
        spatial = model.model.model[indices[0]].spatial
        seen = []
        spatial.register_forward_pre_hook(lambda _m, args: seen.append(args[0]) if not seen else None)
        (result,) = explain(model, IMAGE, imgsz=64, out=tmp_path, device="cpu")

        assert result.folder == tmp_path / IMAGE.stem
        names = sorted(p.name for p in result.folder.glob("layer*.png"))
        assert names == [f"layer{i:02d}_CBAM.png" for i in indices]
        assert [layer.index for layer in result.layers] == indices
        expected = ["detections.png"] + (["eigencam.png"] if HAS_GRAD_CAM else [])
        assert sorted(p.name for p in result.folder.glob("*.png") if not p.name.startswith("layer")) == expected
        for f in result.files:
            assert cv2.imread(str(f)) is not None, f
        if HAS_GRAD_CAM:
            assert result.cam.shape == cv2.imread(str(IMAGE)).shape[:2] and 0 <= result.cam.min() <= 1

        # the spatial map is SAM's own weights(x) for the input its forward received (tensors, not files)
        record = next(r for r in result.layers[0].records if r.kind == "spatial")
        with torch.no_grad():
            torch.testing.assert_close(record.weights, spatial.weights(seen[0]), rtol=0, atol=0)
        assert record.weights.shape == (1, 1, 8, 8)  # P3/8 of a 64 input

    def test_default_size_is_the_checkpoints_training_size(self, trained_cbam, tmp_path):
        # as Ultralytics' predict: a checkpoint trained at 64 is explained at 64 (P3 8x8), not at 640 (80x80)
        (result,) = explain(str(trained_cbam), IMAGE, out=tmp_path, layers=None, device="cpu")
        record = next(r for r in result.layers[0].records if r.kind == "spatial")
        assert record.weights.shape == (1, 1, 8, 8)

    def test_switched_off_layer_is_uniform(self, tmp_path):
        model = cbam_yolo()
        index = yolo_attention.attention_layer_indices(model)[1]
        model.model.model[index].enabled = False
        (result,) = explain(model, IMAGE, imgsz=64, out=tmp_path, layers=index, device="cpu")
        assert [p.name for p in result.folder.glob("layer*.png")] == [f"layer{index:02d}_CBAM.png"]
        (layer,) = result.layers
        assert [r.kind for r in layer.records] == ["channel", "spatial"]
        for record in layer.records:
            assert not record.enabled and torch.equal(record.weights, torch.ones_like(record.weights))


class TestCli:
    def test_writes_maps_and_says_how_to_get_cam(self, tmp_path, monkeypatch):
        monkeypatch.setitem(sys.modules, "pytorch_grad_cam", None)  # as if grad-cam were not installed
        args = ["model=yolov8n-cbam.yaml", f"source={IMAGE}", "imgsz=64", f"out={tmp_path}", "device=cpu"]
        result = CliRunner().invoke(explain_command, args)
        assert result.exit_code == 0, result.output
        hint = [line for line in result.output.splitlines() if "pip install 'yolo-attention[explain]'" in line]
        assert len(hint) == 1, result.output
        assert "3 attention map(s) of 1 image(s)" in result.output
        folder = tmp_path / IMAGE.stem
        assert len(list(folder.glob("layer*.png"))) == 3 and (folder / "detections.png").is_file()
        assert not (folder / "eigencam.png").exists()

    @pytest.mark.parametrize(
        "args,fragment",
        [
            (["model=yolov8n.yaml", f"source={IMAGE}"], "the model has no attention layers"),
            (["model=yolov8n-cbam.yaml", f"source={IMAGE}", "layers=3"], "[3] not attention layers"),
            (["model=yolov8n-cbam.yaml", "source=missing.jpg"], "no images found at source 'missing.jpg'"),
            (["model=yolov8n-cbam.yaml"], "missing source="),
        ],
    )
    def test_bad_input_is_one_line(self, args, fragment, tmp_path):
        result = CliRunner().invoke(explain_command, [*args, f"out={tmp_path}", "imgsz=64", "device=cpu"])
        assert result.exit_code != 0 and fragment in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output


@pytest.mark.parametrize("module", ["probes", "hooks", "maps", "cam", "explainer"])
def test_doctests(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"yolo_attention.explain.{module}"), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
