"""Canaries: one test per Ultralytics internal that yolo_attention.integration relies on.

If one of these fails after an Ultralytics upgrade, the integration needs a look before the supported range in
pyproject.toml may be widened. Each test checks the behaviour we rely on, not only that a name exists.
"""

from __future__ import annotations

import inspect

import pytest
import torch
from ultralytics.data import utils as data_utils
from ultralytics.nn import tasks

from yolo_attention.integration import INTERNALS
from yolo_attention.integration.ultralytics_hooks import _ORIGINAL

original_parse_model = _ORIGINAL["parse_model"]


class Probe(torch.nn.Module):
    """Records what parse_model passes to a module it does not know."""

    calls: list = []

    def __init__(self, *args):
        super().__init__()
        Probe.calls.append(args)

    def forward(self, x):
        return x


def tiny_cfg(*extra_layers):
    return {
        "nc": 2,
        "backbone": [[-1, 1, "Conv", [16, 3, 2]], [-1, 1, "Conv", [32, 3, 2]], *extra_layers],
        "head": [[[-1], 1, "Detect", ["nc"]]],
    }


def test_every_internal_has_a_canary():
    assert set(INTERNALS) == {
        "ultralytics.nn.tasks.parse_model",
        "ultralytics.nn.tasks.check_yaml",
        "ultralytics.data.utils.check_file",
        "ultralytics.nn.tasks._SafeLoad",
        "ultralytics.nn.tasks.BaseModel.load",
        "ultralytics.nn.tasks.load_checkpoint",
        "ultralytics.utils.downloads.attempt_download_asset",
        "layer attributes .f .i .type",
        "ultralytics.engine.trainer.BaseTrainer.optimizer_step",
        "ultralytics.engine.trainer.BaseTrainer._get_warmup_iterations",
        "ultralytics.data.build_yolo_dataset, build_dataloader",
        "head raw predictions in training mode, BaseModel.loss",
    }


def test_parse_model_resolves_names_in_tasks_namespace_and_passes_unknown_modules_their_args(monkeypatch):
    monkeypatch.setitem(tasks.__dict__, "Probe", Probe)
    Probe.calls.clear()
    layers, _ = original_parse_model(tiny_cfg([-1, 1, "Probe", [7]]), ch=3, verbose=False)
    assert Probe.calls == [(7,)]  # unchanged YAML args: the channel count is not injected
    assert isinstance(layers[2], Probe)


def test_parse_model_keeps_layer_index_from_and_channels_in_locals():
    code = original_parse_model.__code__
    names = code.co_varnames + code.co_cellvars  # names used in parse_model's generator expressions are cells
    assert {"i", "f", "ch", "args"} <= set(names)
    assert "globals" in original_parse_model.__code__.co_names  # the module lookup is globals()[m]


def test_detection_model_calls_parse_model_through_the_module_global(monkeypatch):
    seen = []

    def spy(d, ch, verbose=True):
        seen.append(d["nc"])
        return original_parse_model(d, ch, verbose)

    monkeypatch.setattr(tasks, "parse_model", spy)
    tasks.DetectionModel(tiny_cfg(), verbose=False)
    assert seen == [2]  # so wrapping tasks.parse_model reaches every model build


def test_parse_model_restricted_mode_accepts_only_module_classes():
    source = inspect.getsource(original_parse_model)
    assert "issubclass(m, torch.nn.Module)" in source  # why the YAML entries are nn.Module subclasses


def test_yaml_model_load_looks_up_files_through_tasks_check_yaml():
    assert "check_yaml" in tasks.yaml_model_load.__code__.co_names
    assert tasks.guess_model_scale("yolov8s-cbam.yaml") == "s"
    assert tasks.guess_model_scale("yolov8x-pose-coordatt.yaml") == "x"


def test_check_det_dataset_looks_up_files_through_data_utils_check_file(tmp_path):
    assert "check_file" in data_utils.check_det_dataset.__code__.co_names
    (tmp_path / "images").mkdir()
    (tmp_path / "d.yaml").write_text("train: images\nval: images\nnames: {0: a}\n")
    data = data_utils.check_det_dataset(str(tmp_path / "d.yaml"))
    assert data["train"] == str(tmp_path / "images")  # no `path:` key -> relative to the YAML's folder


def test_safe_load_uses_torch_weights_only_allow_list():
    assert hasattr(tasks, "_SafeLoad") and tasks._SafeLoad.SUPPORTED
    assert "add_safe_globals" in inspect.getsource(tasks._SafeLoad.loading)
    assert "safe_only" in inspect.signature(tasks.torch_safe_load).parameters


def test_builtin_names_do_not_shadow_ultralytics_names():
    """Ultralytics' own CBAM (nn/modules/conv.py) is not the paper's nor in tasks' namespace: ours takes the name."""
    from yolo_attention.integration.ultralytics_hooks import _ULTRALYTICS_NAMES
    from yolo_attention.modules import MODULES

    assert not set(MODULES) & _ULTRALYTICS_NAMES


def test_every_weight_transfer_goes_through_base_model_load():
    """YOLO.load and the trainer's get_model both call model.load(weights); no task model overrides it."""
    from ultralytics.engine.model import Model
    from ultralytics.models.yolo.detect.train import DetectionTrainer

    assert "load" in Model.load.__code__.co_names
    assert "load" in DetectionTrainer.get_model.__code__.co_names
    for cls in (tasks.DetectionModel, tasks.PoseModel, tasks.SegmentationModel):
        assert "load" not in vars(cls)
    original = _ORIGINAL["load"]
    assert list(inspect.signature(original).parameters) == ["self", "weights", "verbose"]
    # Ultralytics' own loader takes a module whose .model is a layer list, matching keys and shapes
    source, dest = tasks.DetectionModel(tiny_cfg(), verbose=False), tasks.DetectionModel(tiny_cfg(), verbose=False)
    original(dest, source, verbose=False)
    assert all(torch.equal(v, dest.state_dict()[k]) for k, v in source.state_dict().items())


def test_parse_model_tags_layers_with_from_index_and_type():
    layers, _ = original_parse_model(tiny_cfg(), ch=3, verbose=False)
    assert [(m.i, m.f) for m in layers] == [(0, -1), (1, -1), (2, [-1])]
    assert layers[0].type == "ultralytics.nn.modules.conv.Conv"


def test_optimizer_step_clips_through_torch_at_call_time():
    """Ultralytics clips with torch.nn.utils.clip_grad_norm_(..., max_norm=10.0), looked up when it runs."""
    from ultralytics.engine.trainer import BaseTrainer

    from yolo_attention.integration.ultralytics_hooks import clip_grad_norm_at

    source = inspect.getsource(BaseTrainer.optimizer_step)
    assert "torch.nn.utils.clip_grad_norm_(" in source and "max_norm=10.0" in source
    seen = []
    original = torch.nn.utils.clip_grad_norm_
    with clip_grad_norm_at(5.0):
        param = torch.nn.Parameter(torch.ones(3))
        param.grad = torch.full((3,), 100.0)
        torch.nn.utils.clip_grad_norm_([param], max_norm=10.0)
        seen.append(float(param.grad.norm()))
    assert torch.nn.utils.clip_grad_norm_ is original
    assert seen[0] == pytest.approx(5.0)


def test_training_loop_takes_its_warmup_length_from_get_warmup_iterations():
    """The loop asks `_get_warmup_iterations(nb)` for the ramp length, capped at epochs - 1 (RampIterations lifts
    it)."""
    from types import SimpleNamespace

    from ultralytics.engine.trainer import BaseTrainer

    from yolo_attention.integration.ultralytics_hooks import RampIterations

    assert "nw = self._get_warmup_iterations(nb)" in inspect.getsource(BaseTrainer._do_train)
    plain = SimpleNamespace(args=SimpleNamespace(warmup_epochs=3.0), epochs=1)
    assert BaseTrainer._get_warmup_iterations(plain, 10) == 0  # a one-epoch run gets no ramp from Ultralytics

    class Ramped(RampIterations, BaseTrainer):
        def __init__(self, ramp, epochs):  # no trainer set-up: only the two methods under test
            self.args, self.epochs, self.ramp_epochs = SimpleNamespace(warmup_epochs=3.0), epochs, ramp

    assert Ramped(None, 1)._get_warmup_iterations(10) == 0  # unset: Ultralytics' own answer
    assert Ramped(None, 5)._get_warmup_iterations(10) == 30
    assert Ramped(3.0, 1)._get_warmup_iterations(10) == 10  # at most the phase
    assert Ramped(0.5, 1)._get_warmup_iterations(10) == 5
    assert Ramped(0.0, 5)._get_warmup_iterations(10) == 0


def test_load_checkpoint_returns_the_model_and_fails_on_a_file_that_is_not_a_checkpoint(tmp_path):
    from yolo_attention.integration import CheckpointError, read_checkpoint

    model = tasks.DetectionModel(tiny_cfg(), verbose=False)
    torch.save({"model": model.half(), "train_args": {}}, tmp_path / "ok.pt")
    loaded, ckpt = tasks.load_checkpoint(str(tmp_path / "ok.pt"))
    assert isinstance(loaded, tasks.DetectionModel) and isinstance(ckpt, dict)
    assert next(read_checkpoint(tmp_path / "ok.pt").parameters()).dtype == torch.float32
    (tmp_path / "bad.pt").write_text("garbage\n")
    with pytest.raises(CheckpointError, match=r"'bad.pt' is not a PyTorch checkpoint"):
        read_checkpoint(tmp_path / "bad.pt")
    with pytest.raises(FileNotFoundError):
        read_checkpoint(tmp_path / "missing.pt")


def test_model_ema_update_leaves_frozen_tensors_bit_identical():
    """Ultralytics 8.4's EMA lerps (v += (x - v)(1 - d)): a frozen tensor equal in model and EMA stays equal.

    Older releases computed v = d*v + (1-d)*x, which moves about a quarter of frozen float32 values by an ulp; the
    plugin then needs its keep-frozen callbacks again (training/freeze.py). This canary fails if that comes back.
    """
    from ultralytics.utils.torch_utils import ModelEMA

    torch.manual_seed(0)
    model = tasks.DetectionModel(tiny_cfg(), verbose=False)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn_like(p) * 3.3)
    frozen = [n for n, p in model.named_parameters() if n.startswith("model.0.")]
    for n, p in model.named_parameters():
        p.requires_grad_(n not in frozen)
    ema = ModelEMA(model)
    before = {n: model.state_dict()[n].clone() for n in frozen}
    for _ in range(30):
        with torch.no_grad():
            for n, p in model.named_parameters():
                if n not in frozen:
                    p.add_(torch.randn_like(p) * 0.1)
        ema.update(model)
    ema_state = ema.ema.state_dict()
    assert all(torch.equal(ema_state[n], before[n]) for n in frozen)
    moved = [n for n, p in model.named_parameters() if n not in frozen and not torch.equal(ema_state[n], p)]
    assert moved  # the EMA does update the trained tensors


def test_checkpoint_files_resolve_through_attempt_download_asset_at_call_time(tmp_path, monkeypatch):
    """torch_safe_load imports attempt_download_asset when it runs: a wrapped module attribute is what it calls."""
    from ultralytics.utils import downloads

    seen = []
    model = tasks.DetectionModel(tiny_cfg(), verbose=False)
    torch.save({"model": model.half(), "train_args": {}}, tmp_path / "real.pt")
    monkeypatch.setattr(
        downloads, "attempt_download_asset", lambda f, *a, **k: seen.append(f) or str(tmp_path / "real.pt")
    )
    ckpt, file = tasks.torch_safe_load("some-name.pt")
    assert seen == ["some-name.pt"] and "model" in ckpt  # the file it read is the one the lookup returned


def test_training_loader_gives_ultralytics_train_batches_seeded_by_torch(repo):
    """build_yolo_dataset/build_dataloader over a train split: augmented batches keyed img/cls/bboxes/batch_idx, the
    same for the same torch seed; model.args set to a training config whose loss gains the criterion reads."""
    from yolo_attention.integration import training_loader

    data = repo / "datasets" / "pcb-mini.yaml"
    model = tasks.DetectionModel("yolov8n.yaml", nc=6, verbose=False)
    firsts = []
    for _ in range(2):
        torch.manual_seed(3)
        loader = training_loader(model, data, 64, 4, "detect", workers=0)
        batch = next(iter(loader))
        firsts.append(batch)
    assert {"img", "cls", "bboxes", "batch_idx"} <= set(firsts[0])
    assert firsts[0]["img"].shape == (4, 3, 64, 64) and firsts[0]["img"].dtype == torch.uint8
    assert firsts[0]["im_file"] == firsts[1]["im_file"]
    assert len(loader) == 8  # pcb-mini's 32 train images in batches of 4
    assert model.args.mode == "train" and model.args.box > 0 and model.args.imgsz == 64
    with pytest.raises(ValueError, match=r"nc=6\) was not built for"):
        training_loader(model, repo / "datasets" / "faces-synthetic.yaml", 64, 4, "pose", workers=0)


def test_head_returns_raw_predictions_whenever_its_flag_is_set_and_loss_takes_them(repo):
    """Detect returns its raw dict (boxes, scores, feats) when its own `training` flag is set, even with the model in
    eval mode; BaseModel.loss(batch, preds) takes that dict and returns per-component losses to sum."""
    from yolo_attention.integration import RawPredictions, forget_loss, training_loader, training_loss

    torch.manual_seed(0)
    model = tasks.DetectionModel("yolov8n.yaml", nc=6, verbose=False)
    batch = next(iter(training_loader(model, repo / "datasets" / "pcb-mini.yaml", 64, 4, "detect", workers=0)))
    batch["img"] = batch["img"].float() / 255
    model.eval()
    preds = RawPredictions(model)(batch["img"])
    assert isinstance(preds, dict) and {"boxes", "scores", "feats"} <= set(preds)
    assert preds["scores"].shape == (4, 6, 8 * 8 + 4 * 4 + 2 * 2)  # one score per class per anchor, strides 8-32
    model.model[-1].training = False
    decoded = model(batch["img"])
    assert isinstance(decoded, tuple) and decoded[0].shape == (4, 4 + 6, 84)  # without the flag: decoded
    loss, items = model.loss(batch, preds)  # components scaled by the batch size, as the trainer sums them
    assert loss.shape == (3,) and set(items) == {"box_loss", "cls_loss", "dfl_loss"}
    total = training_loss(model, batch, preds)
    assert total.ndim == 0 and torch.isfinite(total) and torch.isclose(total, loss.sum())
    built = model.criterion  # built once from model.args, kept on the model, rebuilt once forgotten
    assert built is not None and training_loss(model, batch, preds) is not None and model.criterion is built
    forget_loss(model)
    assert model.criterion is None
    model.args.cls = 2 * model.args.cls
    assert training_loss(model, batch, preds) > total  # the rebuilt criterion reads the new gain
    total.backward()
    assert model.model[0].conv.weight.grad.abs().sum() > 0
