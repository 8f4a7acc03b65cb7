"""Pretrained weights into attention models: layer-aligned transfer, identity-safe insertion, one-line placement."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml
from ultralytics import YOLO
from ultralytics.nn.tasks import load_checkpoint

import yolo_attention
from tests.helpers.weights import assert_frozen_equal
from yolo_attention import correspond, layer_map, transfer_weights
from yolo_attention.integration.ultralytics_hooks import original_load
from yolo_attention.training import freeze_indices, keep_frozen_exact

VARIANTS = ["cbam", "eca", "coordatt", "se", "ecasam"]


@pytest.fixture(scope="module")
def pcb_cfgs(tmp_path_factory):
    """The bundled model YAMLs with nc: 6, the class count of the pcb-mini baseline (as a user's own YAML would be)."""
    from yolo_attention.resources import bundled_model_cfgs

    folder = tmp_path_factory.mktemp("cfgs")
    for path in bundled_model_cfgs():
        cfg = yaml.safe_load(path.read_text())
        cfg["nc"] = 6
        (folder / path.name).write_text(yaml.safe_dump(cfg, sort_keys=False))

    def get(variant, scale="n"):
        return str(folder / f"yolov8{scale}-{variant}.yaml")

    return get


def raw_outputs(model, batch):
    task_model = model.model if hasattr(model, "ckpt") else model
    task_model.eval()
    with torch.no_grad():
        out = task_model(batch)
    return out[0] if isinstance(out, (list, tuple)) else out


def source_state(path):
    model, _ = load_checkpoint(path)
    return model, model.float().state_dict()


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_baseline_tensor_lands_in_its_corresponding_layer(variant, pretrained_baseline, pcb_batch, pcb_cfgs):
    source, state = source_state(pretrained_baseline)
    model = YOLO(pcb_cfgs(variant))
    report = transfer_weights(model, str(pretrained_baseline))
    assert report.corresponded and report.transferred == report.total == len(state)
    assert report.new_attention > 0 and report.attn_init == "identity"
    assert "(all baseline layers)" in report.message() and "attention tensors new" in report.message()
    assert report.dropped == 0 and "dropped" not in report.message()

    mapping = correspond(source, model.model).to_source()
    back = {s: d for d, s in mapping.items()}
    dst = model.model.state_dict()
    for key, value in state.items():
        _, index, rest = key.split(".", 2)
        assert torch.equal(dst[f"model.{back[int(index)]}.{rest}"], value), key

    # identity-safe: the attention model computes exactly what the baseline computes
    diff = (raw_outputs(model, pcb_batch) - raw_outputs(source, pcb_batch)).abs().max()
    assert diff < 1e-5


@pytest.mark.parametrize("variant", ["cbam", "coordatt"])
def test_paper_init_keeps_the_baseline_weights_but_changes_the_outputs(
    variant, pretrained_baseline, pcb_batch, pcb_cfgs
):
    source, _ = source_state(pretrained_baseline)
    model = YOLO(pcb_cfgs(variant))
    report = transfer_weights(model, str(pretrained_baseline), attn_init="paper")
    assert report.transferred == report.total and report.attn_init == "paper"
    assert all(model.model.model[i].residual_gate is None for i in layer_map(model).attention)
    diff = (raw_outputs(model, pcb_batch) - raw_outputs(source, pcb_batch)).abs().max()
    assert diff > 1e-3


def test_ultralytics_key_matching_alone_loses_most_of_the_model(pretrained_baseline):
    """The problem this solves (Ultralytics issue #1406), measured: key matching skips everything after layer 4."""
    source, state = source_state(pretrained_baseline)
    plain = YOLO("yolov8n-cbam.yaml").model
    before = {k: v.clone() for k, v in plain.state_dict().items()}
    original_load(plain, source, verbose=False)
    after = plain.state_dict()
    landed = sum(k in after and torch.equal(after[k], v) and not torch.equal(before[k], v) for k, v in state.items())
    assert landed < len(state) // 2


def test_yolo_load_and_a_mismatched_architecture_fall_back_with_a_clear_report(pretrained_baseline):
    model = YOLO("yolov8n-p2.yaml")
    report = transfer_weights(model, str(pretrained_baseline))
    assert not report.corresponded and report.transferred < report.total
    assert "do not correspond" in report.message() and "not transferred: layer" in report.message()
    assert report.missing_layers


def test_yolo_load_goes_through_the_plugin_and_keeps_weights_for_train(pretrained_baseline, pcb_batch, pcb_cfgs):
    source, _ = source_state(pretrained_baseline)
    model = YOLO(pcb_cfgs("eca")).load(str(pretrained_baseline))
    assert model.ckpt is not None  # Ultralytics' train() then starts from these weights
    assert all(model.model.model[i].residual_gate is not None for i in (5, 8, 12))
    assert (raw_outputs(model, pcb_batch) - raw_outputs(source, pcb_batch)).abs().max() < 1e-5


def test_another_class_count_transfers_all_but_the_class_logits(pretrained_baseline):
    model = YOLO("yolov8n-cbam.yaml")  # nc=80, the baseline has 6 classes
    report = transfer_weights(model, str(pretrained_baseline))
    assert report.corresponded and list(report.missing_layers) == [25]
    assert report.total - report.transferred <= 6  # the three final cls convs: weight and bias


def test_a_detection_checkpoint_goes_into_a_pose_model_with_attention_layer_by_layer(pretrained_baseline):
    """Detect -> Pose: same backbone and neck, so every layer corresponds; the head keeps what fits (box branches)."""
    source = YOLO(str(pretrained_baseline)).model
    model = YOLO("yolov8n-pose-cbam.yaml")
    report = transfer_weights(model, str(pretrained_baseline))
    assert report.corresponded and list(report.missing_layers) == [25], report.message()
    assert "layer 25 (Pose: shape differs; parts the source lacks start new)" in report.message()
    assert not report.same_architecture
    plain = transfer_weights(YOLO("yolov8n-pose.yaml"), str(pretrained_baseline))  # Ultralytics' own Detect -> Pose
    assert not plain.same_architecture and "parts the source lacks start new" in plain.message(), plain.message()
    mapping = correspond(source, model.model).to_source()
    head = len(model.model.model) - 1
    for d, s in mapping.items():
        dst, src = model.model.model[d].state_dict(), source.model[s].state_dict()
        same = {k for k in dst if k in src and dst[k].shape == src[k].shape}
        assert same == set(dst) or d == head, d  # every tensor of every other layer arrives
        assert all(torch.equal(dst[k], src[k]) for k in same), d
    box = model.model.model[head].cv2[0][0].conv.weight  # the box branch, shared by both tasks
    assert torch.equal(box, source.model[-1].cv2[0][0].conv.weight)


@pytest.fixture(scope="module")
def cbam_checkpoint(tmp_path_factory):
    """A yolov8n-cbam checkpoint as phase 1 leaves it: baseline weights transferred in, attention gates included."""
    model = YOLO("yolov8n-cbam.yaml")
    transfer_weights(model, YOLO("yolov8n.yaml"), verbose=False)
    path = tmp_path_factory.mktemp("ckpt") / "cbam.pt"
    model.save(path)
    return path


def test_transferring_attention_into_another_attention_reports_the_dropped_tensors(cbam_checkpoint):
    source, state = source_state(cbam_checkpoint)
    cbam_tensors = sum(len(source.model[i].state_dict()) for i in (5, 8, 12))
    model = YOLO("yolov8n-eca.yaml")
    report = transfer_weights(model, cbam_checkpoint)
    assert report.corresponded and not report.same_architecture
    assert report.total == len(state) and report.transferred == len(state) - cbam_tensors
    assert report.dropped == cbam_tensors == 18  # 5 tensors and a residual gate per CBAM layer
    assert report.dropped_layers == dict.fromkeys((5, 8, 12), "CBAM has no place in ECA")
    assert report.new_attention == report.unfilled == 6  # each ECA's 1-D conv and gate started fresh
    assert report.message() == (
        "Transferred 355/373 tensors from cbam.pt (by layer correspondence); 18 source tensors dropped "
        "(layers 5, 8, 12: CBAM has no place in ECA); 6 attention tensors new (identity init)"
    )


def test_transferring_attention_into_the_baseline_reports_the_dropped_tensors(cbam_checkpoint):
    report = transfer_weights(YOLO("yolov8n.yaml"), cbam_checkpoint)
    assert (report.transferred, report.total, report.dropped, report.unfilled) == (355, 373, 18, 0)
    assert "18 source tensors dropped (layers 5, 8, 12: CBAM: the destination has no attention layer there)" in (
        report.message()
    )


def test_baseline_into_attention_drops_nothing():
    report = transfer_weights(YOLO("yolov8n-cbam.yaml"), YOLO("yolov8n.yaml"))
    assert (report.transferred, report.total, report.dropped, report.dropped_layers) == (355, 355, 0, {})
    assert report.new_attention == report.unfilled == 18
    assert report.message() == (
        "Transferred 355/355 tensors from pretrained weights (all baseline layers); 18 attention tensors new "
        "(identity init)"
    )


def test_a_key_matching_fallback_names_the_dropped_source_layers(cbam_checkpoint):
    report = transfer_weights(YOLO("yolov8n-p2.yaml"), cbam_checkpoint)
    assert not report.corresponded and report.dropped == report.total - report.transferred > 0
    assert report.dropped_layers[5] == "CBAM" and report.dropped_layers[6] == "Conv"
    assert f"; {report.dropped} source tensors dropped (layers 5, 8, 12: CBAM; layers 6, 9: Conv;" in report.message()


def test_reloading_a_checkpoint_into_its_own_architecture_says_loaded(cbam_checkpoint, monkeypatch):
    """What Ultralytics' trainer does at the start of a phase: rebuild the model from the YAML, load its weights."""
    from ultralytics.nn.tasks import DetectionModel

    from yolo_attention.arch import transfer

    logged = []
    monkeypatch.setattr(transfer.LOGGER, "info", logged.append)
    source, state = source_state(cbam_checkpoint)
    rebuilt = DetectionModel("yolov8n-cbam.yaml", verbose=False)
    rebuilt.load(source)  # the trainer's get_model(weights=...)
    report = transfer._LAST_REPORT.get()
    assert report.same_architecture and report.transferred == report.total == len(state) == 373
    assert (report.dropped, report.unfilled, report.new_attention) == (0, 0, 0)
    assert logged == ["Loaded 373/373 tensors from cbam.pt (same architecture)"]
    for key, value in state.items():
        assert torch.equal(rebuilt.state_dict()[key], value), key


def test_layer_map_knows_roles_and_source_indices():
    source, model = YOLO("yolov8n.yaml"), YOLO("yolov8n-coordatt.yaml")
    mapped = correspond(source, model)
    assert mapped.attention == [5, 8, 12]
    assert mapped.backbone == [0, 1, 2, 3, 4, 6, 7, 9, 10, 11]
    assert mapped.neck == list(range(13, 25)) and mapped.head == [25]
    assert mapped.to_source()[13] == 10 and mapped.to_source()[25] == 22
    assert freeze_indices(model, "backbone") == mapped.backbone
    assert not set(freeze_indices(model, "backbone")) & set(mapped.attention)
    with pytest.raises(ValueError, match=r"out of range for a 26-layer model \(0..25\): \[26\]$"):
        freeze_indices(model, [0, 26])
    with pytest.raises(ValueError, match=r"^freeze=100 freezes the first 100 layers, but the model has 26 \(0..26\)$"):
        freeze_indices(model, 100)
    with pytest.raises(ValueError, match="'backbone', 'all-but-attention', 'none', an int or a list"):
        freeze_indices(model, "neck")


@pytest.mark.parametrize(
    "where,expected",
    [("backbone", [5, 8, 12]), ("neck", [16, 20, 24]), ("4,6", [5, 8]), ([15], [16])],
)
def test_insert_places_attention_and_saves_a_rebuildable_yaml(
    where, expected, pretrained_baseline, pcb_batch, tmp_path
):
    source, _ = source_state(pretrained_baseline)
    model = yolo_attention.insert(str(pretrained_baseline), "cbam", where=where, save_dir=tmp_path)
    assert yolo_attention.attention_layer_indices(model) == expected
    assert (raw_outputs(model, pcb_batch) - raw_outputs(source, pcb_batch)).abs().max() < 1e-5
    saved = next(tmp_path.glob("*.yaml"))
    assert saved.name.startswith("yolov8n-cbam-") and yaml.safe_load(saved.read_text())["attention"]["module"] == "CBAM"
    rebuilt = YOLO(str(saved))
    assert [type(m).__name__ for m in rebuilt.model.model] == [type(m).__name__ for m in model.model.model]


def test_inserted_model_exports_as_its_yaml_not_over_the_source(pretrained_baseline, tmp_path, monkeypatch):
    """Ultralytics' load hands a model the source checkpoint's path, beside which export() writes: an inserted model
    would write `last.onnx` into the baseline's folder (over its export; into the package for the shipped weights).
    It is named after its own YAML and written where any YAML-built model's export is, the working directory."""
    import shutil

    source = tmp_path / "baseline" / "last.pt"
    source.parent.mkdir()
    shutil.copy(pretrained_baseline, source)
    model = yolo_attention.insert(str(source), "eca", save_dir=tmp_path / "models")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    exported = Path(model.export(format="torchscript", imgsz=64, verbose=False)).resolve()
    assert exported == tmp_path / "work" / "yolov8n-eca-backbone.torchscript", exported
    assert sorted(p.name for p in source.parent.iterdir()) == ["last.pt"]
    # the same architecture keeps Ultralytics' behaviour: the weights' file names its exports
    assert YOLO("yolov8n.yaml").load(str(source)).model.pt_path == str(source)


def test_insert_from_the_bundled_layout_matches_the_bundled_model(tmp_path):
    inserted = yolo_attention.insert("yolov8s.yaml", "ECA", where="backbone", save_dir=tmp_path)
    bundled = YOLO("yolov8s-eca.yaml")
    assert [m.f for m in inserted.model.model] == [m.f for m in bundled.model.model]
    assert inserted.model.yaml["scale"] == "s"


@pytest.mark.parametrize(
    "kwargs,fragment",
    [
        ({"module": "cbma"}, "Did you mean 'CBAM'"),
        ({"module": "cbam", "where": "middle"}, "backbone, neck"),
        ({"module": "cbam", "where": [30]}, "0..21"),
        ({"module": "cbam", "attn_init": "zeros"}, "identity, paper"),
        ({"module": "cbam", "where": []}, r"where=\[\] selected no layers"),
        ({"module": "cbam", "where": 4.0}, r"where must be .*, got 4\.0"),
        ({"module": "cbam", "where": True}, r"where must be .*, got True"),
        ({"module": "cbam", "args": 7}, r"args must be a list .*, got 7"),
        ({"module": torch.nn.Identity}, "is not a registered attention module"),
    ],
)
def test_insert_bad_input(kwargs, fragment, tmp_path):
    with pytest.raises(ValueError, match=fragment):
        yolo_attention.insert("yolov8n.yaml", save_dir=tmp_path, **kwargs)


def test_insert_takes_a_registered_class_as_its_name(tmp_path):
    model = yolo_attention.insert("yolov8n.yaml", yolo_attention.modules.CBAM, where="4", save_dir=tmp_path)
    assert yolo_attention.attention_layer_indices(model) == [5]
    assert Path(model.cfg).name == "yolov8n-cbam-at4.yaml"


def test_transfer_weights_needs_a_model_object_not_a_path():
    with pytest.raises(ValueError, match=r"transfer_weights\(YOLO\('yolov8n-cbam.yaml'\), weights\)"):
        transfer_weights("yolov8n-cbam.yaml", YOLO("yolov8n.yaml"))


@pytest.mark.slow
def test_identity_transfer_predicts_as_the_baseline_and_frozen_training_keeps_frozen_tensors(
    pretrained_baseline, tmp_path, pcb_cfgs, repo
):
    """Train one epoch from transferred weights with the backbone frozen: frozen tensors bit-identical in last.pt."""
    baseline = YOLO(str(pretrained_baseline))
    model = YOLO(pcb_cfgs("cbam")).load(str(pretrained_baseline))
    images = sorted((repo / "datasets" / "pcb-mini" / "images" / "val").glob("*.jpg"))[:2]
    for image in images:  # identical predictions, down to the lowest-confidence box
        a, b = (m.predict(image, imgsz=64, conf=0.0, verbose=False)[0].boxes.data for m in (baseline, model))
        assert len(a) > 0 and torch.equal(a, b)

    args = {"data": "pcb-mini.yaml", "imgsz": 64, "batch": 8, "workers": 0, "plots": False, "verbose": False}
    frozen = freeze_indices(model, "backbone")
    for event, fn in keep_frozen_exact().items():
        model.add_callback(event, fn)
    model.train(
        **args,
        epochs=1,
        freeze=frozen,
        optimizer="AdamW",
        lr0=0.01,
        warmup_epochs=0,
        project=str(tmp_path),
        name="t",
        val=False,
    )
    from yolo_attention.arch import transfer

    report = transfer._LAST_REPORT.get()
    assert report.transferred == report.total  # the trainer's rebuild went through the plugin too

    last = tmp_path / "t" / "weights" / "last.pt"
    assert assert_frozen_equal(pretrained_baseline, last, frozen) > 100  # bit for bit, BatchNorm statistics included
    trained, _ = load_checkpoint(last)
    gates = [trained.model[i].residual_gate.item() for i in (5, 8, 12)]
    assert all(g != 0.0 for g in gates)  # the attention layers trained
