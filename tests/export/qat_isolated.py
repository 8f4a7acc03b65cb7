"""Quantisation-aware fine-tuning before INT8 (`export qat_epochs=`): trained through the quantisers, saved without.

Run by tests/export/test_qat.py in a process of their own (NNCF's PyTorch backend loads a compiled extension and hooks
torch functions, state the rest of the suite should not share). The export runs this fine-tuning in a child process
(`qat_process`): tests/export/test_qat_process.py, in the main suite.
"""

from __future__ import annotations

import pytest
import torch

from tests.export.export_cases import IMGSZ

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _fused(checkpoint):
    from ultralytics import YOLO

    return YOLO(str(checkpoint)).model.float().fuse()


def _tune(checkpoint, out, **kwargs):
    from yolo_attention.export.qat import qat_fine_tune

    common = {"imgsz": IMGSZ, "epochs": 1, "batch": 8, "subset_size": 8, "workers": 0}
    return qat_fine_tune(checkpoint, "pcb-mini.yaml", out, **{**common, **kwargs})


def test_fake_quantised_model_rounds_activations_and_passes_gradients_to_the_weights(trained_cbam, pcb_batch):
    pytest.importorskip("nncf")
    from yolo_attention.export.qat import fake_quantised
    from yolo_attention.integration import RawPredictions

    net = _fused(trained_cbam)
    for p in net.parameters():
        p.requires_grad_(True)
    quantised = fake_quantised(net, "pcb-mini.yaml", IMGSZ, subset_size=8)
    quantised.eval()
    with torch.no_grad():  # the features the head reads (a tiny model's scores hardly depend on its input)
        exact = RawPredictions(net)(pcb_batch)["feats"][0]
        rounded = quantised(pcb_batch)["feats"][0]
    assert rounded.shape == exact.shape
    error = (rounded - exact).abs().max().item()
    assert error > 1e-3 * exact.abs().max().item(), error  # 8-bit rounding, far above float noise (~1e-6)
    assert error < 0.5 * exact.abs().max().item()  # and still the same model

    quantised.train()
    quantised(pcb_batch)["feats"][0].square().sum().backward()
    weights = dict(quantised.named_parameters())
    first = weights["net.model.0.conv.weight"]
    assert first.grad is not None and first.grad.abs().sum() > 0


def test_fine_tune_moves_the_weights_saves_a_plain_checkpoint_and_leaves_the_source_alone(trained_cbam, tmp_path):
    pytest.importorskip("nncf")
    from nncf.torch.quantization.extensions import QuantizedFunctionsCPU
    from ultralytics import YOLO

    QuantizedFunctionsCPU.get("Quantize_forward")  # loaded on first use, after which results differ in the last bits
    before = trained_cbam.read_bytes()
    model = YOLO(str(trained_cbam))
    given = {k: v.clone() for k, v in model.model.state_dict().items()}
    qat = _tune(model, tmp_path / "qat.pt")  # a YOLO object: fine-tuned as a copy
    again = _tune(trained_cbam, tmp_path / "again.pt")
    plain = _tune(trained_cbam, tmp_path / "plain.pt", quantize=False)
    other_seed = _tune(trained_cbam, tmp_path / "seed1.pt", seed=1)
    assert trained_cbam.read_bytes() == before
    assert model.model.state_dict().keys() == given.keys()  # not fused
    assert all(torch.equal(given[k], v) for k, v in model.model.state_dict().items())

    # Checkpoints are saved in FP16, as Ultralytics saves them: compare at that precision.
    source = {k: v.half() for k, v in _fused(trained_cbam).state_dict().items()}
    tuned = {k: v.half() for k, v in _fused(qat).state_dict().items()}
    assert set(tuned) == set(source)  # the model's own tensors only: no quantiser is left in the checkpoint
    names = {type(m).__name__ for m in _fused(qat).modules()}
    assert not [n for n in names if "Quantize" in n or "NNCF" in n], names
    moved = [k for k in source if source[k].is_floating_point() and not torch.equal(source[k], tuned[k])]
    assert "model.0.conv.weight" in moved and len(moved) > len(source) // 2, len(moved)

    def weights(path):
        return _fused(path).state_dict()["model.0.conv.weight"]

    assert torch.equal(weights(qat), weights(again))  # same seed (and a YOLO or its file): same weights
    assert not torch.equal(weights(qat), weights(other_seed))  # the seed reaches the batches
    assert not torch.equal(weights(qat), weights(plain))  # the quantisers shaped the training


def test_fine_tune_trains_a_pose_model_on_its_keypoints(tmp_path):
    """The face models have pose heads: their loss (boxes and landmarks) is what is trained."""
    pytest.importorskip("nncf")
    from ultralytics import YOLO

    from yolo_attention.export.qat import qat_fine_tune

    out = qat_fine_tune(
        "yolov8n-face-ecasam.yaml", "faces-synthetic.yaml", tmp_path / "face.pt", IMGSZ, 0.25, subset_size=8, workers=0
    )
    tuned = YOLO(str(out))
    assert tuned.task == "pose" and tuned.model.model[-1].kpt_shape == [5, 3]


@pytest.mark.parametrize(
    "kwargs,fragment",
    [
        ({"epochs": 0}, "qat_epochs must be"),
        ({"epochs": True}, "qat_epochs must be"),
        ({"lr": 2.0}, "qat_lr must be"),
        ({"batch": 0}, "batch must be"),
    ],
)
def test_fine_tune_rejects_settings_that_cannot_be_meant(kwargs, fragment, tmp_path):
    with pytest.raises(ValueError, match=fragment):
        _tune("yolov8n-eca.yaml", tmp_path / "x.pt", **kwargs)


def test_fine_tune_rejects_a_model_not_built_for_the_data(tmp_path):
    from yolo_attention.export.qat import qat_fine_tune

    with pytest.raises(ValueError, match=r"nc=80\) was not built for 'faces-synthetic.yaml'"):
        qat_fine_tune("yolov8n-eca.yaml", "faces-synthetic.yaml", tmp_path / "x.pt", imgsz=IMGSZ, workers=0)
    assert not (tmp_path / "x.pt").exists()


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["format=onnx", "qat_epochs=1", "data=pcb-mini.yaml"], "qat_epochs=1 fine-tunes the weights for INT8"),
        (["format=openvino", "qat_epochs=1", "data=pcb-mini.yaml"], "add int8=True"),
        (["format=openvino", "int8=True", "qat_epochs=-1", "data=pcb-mini.yaml"], "qat_epochs must be"),
        (["format=openvino", "int8=True", "qat_epochs=one", "data=pcb-mini.yaml"], "qat_epochs"),
        (["format=openvino", "int8=True", "qat_lr=1e-4", "data=pcb-mini.yaml"], "qat_epochs=, which is not set"),
        (["format=openvino", "int8=True", "qat_epochs=1", "qat_lr=5", "data=pcb-mini.yaml"], "qat_lr must be"),
        (["format=openvino", "int8=True", "qat_epochs=1", "data=faces-synthetic.yaml"], "was not built for"),
        (["format=openvino", "int8=True", "qat_epochs=1"], "needs data="),
    ],
)
def test_export_qat_bad_input_is_one_line(args, fragment, trained_cbam):
    from click.testing import CliRunner

    from yolo_attention.cli.export_cmd import export as export_command

    result = CliRunner().invoke(export_command, [f"model={trained_cbam}", *args])
    assert result.exit_code != 0 and fragment in result.output and "Traceback" not in result.output, result.output
    assert len([line for line in result.output.splitlines() if line.startswith("Error")]) == 1, result.output


def test_export_qat_needs_a_checkpoint():
    from click.testing import CliRunner

    from yolo_attention.cli.export_cmd import export as export_command

    args = ["model=yolov8n-cbam.yaml", "format=openvino", "int8=True", "qat_epochs=1", "data=pcb-mini.yaml"]
    result = CliRunner().invoke(export_command, args)
    assert result.exit_code != 0 and "Traceback" not in result.output, result.output
    assert "give a checkpoint (model=best.pt), not a model built from yolov8n-cbam.yaml" in result.output


@pytest.mark.parametrize(
    "fmt,precision,map50,expected",
    [
        ("openvino", "int8", 0.700, "INT8 loses 1.00 mAP50 points; qat_epochs=1"),
        ("openvino", "int8", 0.706, None),
        ("openvino", "fp16", 0.6, None),
        ("qnn", "int8", 0.6, None),  # measured there not to reach the tolerance: no promise
    ],
)
def test_report_suggests_qat_only_for_an_int8_openvino_export_losing_over_half_a_point(fmt, precision, map50, expected):
    from yolo_attention.export.exporter import qat_hint
    from yolo_attention.export.report import ParityReport

    hint = qat_hint(ParityReport(fmt, "m", precision, map50=map50, ref_map50=0.71))
    assert hint == expected if expected is None else hint.startswith(expected)
    assert qat_hint(ParityReport("openvino", "m", "int8")) is None  # not validated: nothing to go by
