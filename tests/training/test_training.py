"""Staged training: schedules and configuration as data, and what a schedule promises, checked in the weights."""

from __future__ import annotations

import copy
import functools
import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from ultralytics import YOLO
from ultralytics.nn.tasks import load_checkpoint

from tests.helpers.weights import assert_frozen_equal, saved_switches
from yolo_attention.cli.main import cli
from yolo_attention.modules import AttentionModule, set_attention
from yolo_attention.training import load_schedule, train
from yolo_attention.training.callbacks import EarlyStopping, head_output_convs, phase_callbacks
from yolo_attention.training.config import DEFAULT_CONFIG, apply_overrides, load_config
from yolo_attention.training.experiment import read_results
from yolo_attention.training.trainer import AttentionDetectionTrainer, AttentionPoseTrainer

TINY = {"imgsz": 64, "batch": 8, "workers": 0, "plots": False, "warmup_epochs": 0}


# --- schedules and configuration as data -------------------------------------------------------------------------


def test_bundled_schedules_are_the_seeds():
    two = load_schedule("two-stage")
    assert [(p.name, p.epochs, p.freeze) for p in two.phases] == [
        ("warmup", 25, "all-but-attention"),
        ("finetune", 125, "none"),
    ]
    warmup, finetune = (p.train_args for p in two.phases)
    assert (warmup["optimizer"], warmup["lr0"], warmup["warmup_bias_lr"]) == ("AdamW", 0.001, 0.0)
    assert (finetune["optimizer"], finetune["lr0"], finetune["warmup_bias_lr"]) == ("AdamW", 0.0001, 0.0)
    assert [p.ramp_epochs for p in two.phases] == [0, 1]
    four = load_schedule("four-phase")
    assert [p.epochs for p in four.phases] == [30, 25, 25, 30]
    assert [p.train_args["lr0"] for p in four.phases] == [1e-3, 5e-4, 5e-4, 1e-4]
    assert four.phases[1].attention == {"ECA": True, "SAM": False}
    assert [p.freeze for p in four.phases] == ["none", "all-but-attention", "all-but-attention", "none"]
    assert [p.ramp_epochs for p in four.phases] == [3, 0, 0, 1]
    last = four.phases[3]
    assert (last.head_dropout, last.clip_grad_norm, last.train_args["mixup"]) == (0.3, 5.0, 0.2)
    assert all(p.train_args["weight_decay"] == 1e-4 and p.train_args["cos_lr"] for p in four.phases)
    assert all(p.train_args["warmup_bias_lr"] == 0.0 for p in four.phases)


@pytest.mark.parametrize(
    "phases,fragment",
    [
        ([{"name": "a"}], "'epochs' is missing"),
        ([{"name": "a", "epochs": 2, "epoch": 3}], "Did you mean 'epochs'"),
        ([{"name": "a", "epochs": 2, "lr0": 0.1}], "optimizer is auto"),
        ([{"name": "a", "epochs": 2, "head_dropout": 1.5}], "head_dropout"),
        ([{"name": "a", "epochs": 2, "freeze": "backbnoe"}], "freeze must be"),
        ([{"name": "a", "epochs": 2, "ramp_epochs": -1}], "ramp_epochs must be"),
        ([{"name": "a", "epochs": 2, "attention": {"CBAM": "on"}}], r"\(True/False\).*got \{'CBAM': 'on'\}"),
        ([{"name": "a", "epochs": 2}, {"name": "a", "epochs": 1}], "unique"),
        ([{"name": "a", "epochs": 2, "data": "x.yaml"}], "the runner sets it"),
    ],
)
def test_bad_schedules_fail_with_one_clear_message(phases, fragment):
    with pytest.raises(ValueError, match=fragment):
        load_schedule(phases)


def test_missing_schedule_file():
    with pytest.raises(FileNotFoundError, match="Did you mean 'four-phase'"):
        load_schedule("four-phse")


def test_config_sections_overrides_and_suggestions(tmp_path):
    assert load_config() == DEFAULT_CONFIG
    from yolo_attention.training.config import BUNDLED_CONFIG_DIR

    assert load_config(BUNDLED_CONFIG_DIR / "example.yaml") == DEFAULT_CONFIG  # the template documents every key
    cfg = apply_overrides(
        load_config(),
        {
            "imgsz": 320,
            "pretrained": "b.pt",
            "lr0": 0.02,
            "training_strategy.warmup.epochs": 5,
            "export": "onnx,openvino",
        },
    )
    assert cfg["environment"]["imgsz"] == 320 and cfg["model"]["weights"] == "b.pt"
    assert cfg["overrides"] == {"lr0": 0.02} and cfg["training_strategy"]["warmup"] == {"epochs": 5}
    assert cfg["export"]["formats"] == ["onnx", "openvino"]
    for bad, fragment in (
        ({"environment.imgsize": 1}, "Did you mean 'imgsz'"),
        ({"enviroment.imgsz": 1}, "Did you mean 'environment'"),
        ({"overrides.lr00": 1}, "Did you mean 'lr0'"),
        ({"imgsze": 1}, "Did you mean 'imgsz'"),
    ):
        with pytest.raises(ValueError, match=fragment):
            apply_overrides(load_config(), bad)
    file = tmp_path / "c.yaml"
    file.write_text("model:\n  config_pth: x.yaml\n")
    with pytest.raises(ValueError, match="Did you mean 'config_path'"):
        load_config(file)


def test_a_bundled_configuration_is_found_by_name_and_a_local_file_comes_first(tmp_path, monkeypatch):
    """`train config=quickstart.yaml epochs=1` changes the quick start (any key alone starts from the defaults)."""
    monkeypatch.chdir(tmp_path)
    config = load_config("quickstart.yaml")
    assert config["model"]["weights"] == "yolov8n-deeppcb.pt" and config["environment"]["imgsz"] == 320
    Path("quickstart.yaml").write_text("environment:\n  imgsz: 96\n")
    assert load_config("quickstart.yaml")["environment"]["imgsz"] == 96
    with pytest.raises(FileNotFoundError, match="'sub/quickstart.yaml' does not exist"):
        load_config("sub/quickstart.yaml")  # a path is a path, not a bundled name


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["epoch=3"], "Did you mean 'epochs'"),
        (["training_strategy.warmpu.epochs=3"], "Did you mean 'warmup'"),
        (["schedule=missing.yaml"], "neither a bundled schedule"),
        (["training_strategy.warmup.freeze=[0,40]", "model=yolov8n-eca.yaml"], "out of range"),
        (["--config", "/nonexistent/c.yaml", "imgsz=64"], "does not exist (bundled, by name: example.yaml, quick"),
        (["resume=/nonexistent/exp"], "not an experiment folder"),
    ],
)
def test_bad_configuration_on_the_cli_is_one_line(args, fragment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["train", *args], catch_exceptions=False)
    assert result.exit_code != 0 and fragment in result.output and "Traceback" not in result.output
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs" / "experiments").iterdir())


# --- callbacks, in isolation ---------------------------------------------------------------------------------------


def test_early_stopping_honours_patience_and_min_delta():
    stop = EarlyStopping("val/mAP50-95", patience=2, min_delta=0.01)
    assert [stop.update(e, v) for e, v in enumerate([0.10, 0.105, 0.2, 0.205, 0.209], 1)] == [
        False,
        False,  # +0.005 is not an improvement
        False,
        False,
        True,  # two epochs without +0.01
    ]
    loss = EarlyStopping("val/box_loss", patience=1)
    assert [loss.update(e, v) for e, v in enumerate([1.0, 0.9, 0.95], 1)] == [False, False, True]


def test_switches_head_dropout_and_callbacks_are_picklable():
    model = YOLO("yolov8n-ecasam.yaml").model
    assert set_attention(model, {"all": False, "ECA": True}) == {"all": 9, "ECA": 3}
    sams = [m for m in model.modules() if type(m).__name__ == "SAM"]
    assert sams and not any(m.enabled for m in sams)
    x = torch.randn(1, 64, 8, 8)
    assert torch.equal(sams[0](x), x)  # a switched-off module is an exact identity

    phase = load_schedule("four-phase").phases[3]
    callbacks = phase_callbacks(phase, EarlyStopping())
    pickle.loads(pickle.dumps(callbacks))  # DDP workers unpickle them: no closures
    pickle.loads(pickle.dumps(AttentionDetectionTrainer)), pickle.loads(pickle.dumps(AttentionPoseTrainer))

    class FakeTrainer:
        def __init__(self, model):
            self.model, self.ema = model, None

    trainer = FakeTrainer(YOLO("yolov8n-cbam.yaml").model)
    for event, fn in callbacks:
        if event == "on_pretrain_routine_end":
            fn(trainer)
    conv = head_output_convs(trainer.model)[0]
    features = torch.ones(2, conv.in_channels, 4, 4)
    conv.train()
    assert not torch.equal(conv(features), conv(features))  # dropout while training
    conv.eval()
    assert torch.equal(conv(features), torch.nn.functional.conv2d(features, conv.weight, conv.bias))


# --- real tiny runs -----------------------------------------------------------------------------------------------


class LiveModels:
    """An on_train_end callback keeping each phase's live (FP32, trained) model, as the trainer holds it."""

    def __init__(self):
        self.models = {}

    def wrap(self, original):
        def phase_callbacks(phase, stopper=None):
            return [*original(phase, stopper), ("on_train_end", functools.partial(self.keep, name=phase.name))]

        return phase_callbacks

    def keep(self, trainer, name):
        from yolo_attention.common.models import unwrap_parallel

        self.models[name] = copy.deepcopy(unwrap_parallel(trainer.model)).float()


@pytest.mark.slow
def test_two_stage_end_to_end(pretrained_baseline, tmp_path, monkeypatch):
    import yolo_attention.training.phases as runner

    live = LiveModels()
    monkeypatch.setattr(runner, "phase_callbacks", live.wrap(runner.phase_callbacks))
    started = time.time()
    root = train(
        "yolov8n-cbam.yaml",
        data="pcb-mini.yaml",
        pretrained=str(pretrained_baseline),
        project=str(tmp_path),
        name="two",
        **TINY,
        **{"training_strategy.warmup.epochs": 1, "training_strategy.finetune.epochs": 1},
    )
    for path in (
        "logs/train.log",
        "checkpoints/warmup_complete.pt",
        "checkpoints/finetune_complete.pt",
        "checkpoints/final_model.pt",
        "results/training_summary.json",
        "configs/config.yaml",
        "warmup/results.csv",
        "finetune/results.csv",
        "experiment.json",
    ):
        assert (root / path).is_file(), path
    assert (root / "models").is_dir() and root.name.startswith("two_")
    pytest.importorskip("tensorboard")  # installed by the dev extra
    events = list((root / "tensorboard").glob("events.out.tfevents.*"))
    assert events and sum(e.stat().st_size for e in events) > 0
    log = (root / "logs/train.log").read_text()
    assert "Transferred 355/355 tensors" in log
    wall = time.time() - started

    summary = json.loads((root / "results/training_summary.json").read_text())
    info = summary["experiment_info"]
    assert 0.8 * wall <= info["total_training_time_s"] <= wall + 1  # the real wall time of the run
    # held-out mAP: the transfer changes nothing; one table at the end, the same numbers as the summary
    rows = {r["model"]: r for r in summary["evaluation"]}
    assert list(rows) == ["pretrained", "after transfer", "after warmup", "after finetune"]
    pretrained, transferred = rows["pretrained"], rows["after transfer"]
    assert (pretrained["mAP50"], pretrained["mAP50-95"]) == (transferred["mAP50"], transferred["mAP50-95"])
    assert log.count("held-out results (data val split)") == 1
    for name, row in rows.items():
        assert f"{name:<24}" in log and f"{row['mAP50']:>10.4f}{row['mAP50-95']:>10.4f}" in log
    # every path is relative to the experiment folder
    assert summary["final_model"] == "checkpoints/final_model.pt"
    assert [p["checkpoint"] for p in summary["phases"]] == [
        "checkpoints/warmup_complete.pt",
        "checkpoints/finetune_complete.pt",
    ]
    state = json.loads((root / "experiment.json").read_text())
    assert str(root) not in json.dumps({k: v for k, v in state.items() if k != "config"})
    assert info["attention_mechanism"] == ["CBAM"] and info["schedule"] == "two-stage"
    assert set(info["versions"]) == {"ultralytics", "torch", "yolo_attention"} and info["seed"] == 0
    warmup, finetune = summary["phases"]
    everything_but_attention = [i for i in range(26) if i not in (5, 8, 12)]
    assert warmup["frozen_layers"] == everything_but_attention and finetune["frozen_layers"] == []
    optimizers = (warmup["optimizer"], warmup["lr0"], finetune["optimizer"], finetune["lr0"])
    assert optimizers == ("AdamW", 0.001, "AdamW", 1e-4)
    assert warmup["epochs_run"] == 1 and warmup["best_mAP50"] is not None and warmup["early_stopped"] is False
    for name in ("warmup", "finetune"):  # the end of each phase says what it did to the model it started from
        assert re.search(rf"{name}: mAP50 \d\.\d{{4}} -> \d\.\d{{4}} \(held-out", log), name

    # the learning rate each phase logged is its own: the warm-up at its rate (no ramp); the fine-tune still on its
    # ramp from zero, which spans the whole one-epoch phase: 4 batches, the last at 3/4 of the rate (Ultralytics'
    # warmup_epochs would give none)
    assert read_results(root / "warmup/results.csv")[0]["lr/pg0"] == pytest.approx(0.001)
    assert read_results(root / "finetune/results.csv")[0]["lr/pg0"] == pytest.approx(1e-4 * 3 / 4)

    # frozen means unchanged, bit for bit (BatchNorm statistics included), in the live FP32 model and the checkpoint;
    # the attention layers trained
    assert assert_frozen_equal(pretrained_baseline, live.models["warmup"], warmup["frozen_layers"]) > 100
    assert (
        assert_frozen_equal(pretrained_baseline, root / "checkpoints/warmup_complete.pt", warmup["frozen_layers"]) > 100
    )
    warm, _ = load_checkpoint(root / "checkpoints/warmup_complete.pt")
    assert all(warm.model[i].residual_gate.item() != 0 for i in (5, 8, 12))


@pytest.mark.slow
def test_four_phase_end_to_end_switches_clipping_and_lr(pretrained_baseline, tmp_path, monkeypatch):
    norms = []
    original = torch.nn.utils.clip_grad_norm_

    def spy(parameters, max_norm, *args, **kwargs):
        norms.append(max_norm)
        return original(parameters, max_norm, *args, **kwargs)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy)
    epochs = {f"training_strategy.{p}.epochs": 1 for p in ("phase1", "phase2a", "phase2b", "phase3")}
    root = train(
        "yolov8n-ecasam.yaml",
        data="pcb-mini.yaml",
        schedule="four-phase",
        pretrained=str(pretrained_baseline),
        project=str(tmp_path),
        name="four",
        nbs=8,
        **TINY,
        **epochs,
    )
    names = ["phase1", "phase2a", "phase2b", "phase3"]
    for name in names:
        assert (root / "checkpoints" / f"{name}_complete.pt").is_file()
    lrs = [read_results(root / name / "results.csv")[0]["lr/pg0"] for name in names]
    # phases 1 and 3 train trained layers: their rates ramp from zero over the whole one-epoch phase (last of 4
    # batches at 3/4); phases 2a and 2b train only the new attention layers, at their full rate from the start
    assert lrs == pytest.approx([1e-3 * 3 / 4, 5e-4, 5e-4, 1e-4 * 3 / 4])

    def switches(name):
        return saved_switches(root / "checkpoints" / f"{name}_complete.pt")

    assert switches("phase1") == {"ECASAM": {False}, "ECA": {False}, "SAM": {False}}
    assert switches("phase2a") == {"ECASAM": {True}, "ECA": {True}, "SAM": {False}}
    assert switches("phase2b") == switches("phase3") == {"ECASAM": {True}, "ECA": {True}, "SAM": {True}}
    batches = 4  # 32 images, batch 8, nominal batch 8: one optimizer step per batch
    assert norms[: 3 * batches] == [10.0] * (3 * batches) and norms[3 * batches :] == [5.0] * batches


@pytest.mark.slow
def test_without_weights_a_baseline_phase_comes_first_early_stopping_and_stage(tmp_path, trained_cbam):
    root = train(
        "yolov8n-eca.yaml",
        data="pcb-mini.yaml",
        project=str(tmp_path),
        name="scratch",
        **TINY,
        **{"model.pretrain_epochs": 1, "training_strategy.warmup.epochs": 1, "training_strategy.finetune.epochs": 4},
        **{"early_stopping.enabled": True, "early_stopping.patience": 1, "early_stopping.min_delta": 1.0},
    )
    state = json.loads((root / "experiment.json").read_text())
    assert [p["name"] for p in state["phases"]] == ["pretrain", "warmup", "finetune"]
    finetune = json.loads((root / "results/training_summary.json").read_text())["phases"][2]
    assert finetune["early_stopped"] is True and finetune["epochs_run"] == 2  # no +1.0 mAP gain within 1 epoch
    log = (root / "logs/train.log").read_text()
    assert "freezing a random backbone is pointless" in log and "from pretrain_complete.pt" in log
    baseline, _ = load_checkpoint(root / "checkpoints/pretrain_complete.pt")
    assert not any(isinstance(m, AttentionModule) for m in baseline.modules())

    only = train(
        trained_cbam,
        data="pcb-mini.yaml",
        stage="finetune",
        project=str(tmp_path),
        name="one",
        epochs=1,
        export="onnx",
        **TINY,
    )
    assert [p["name"] for p in json.loads((only / "experiment.json").read_text())["phases"]] == ["finetune"]
    assert list((only / "models").glob("*.onnx"))  # exported and verified into the experiment's models/


def test_attn_init_paper_reaches_the_weights_without_attn(pretrained_baseline, tmp_path):
    """attn_init= with a model YAML that has its attention already: new layers start as in the papers (no gate)."""

    def gates(root):
        model, _ = load_checkpoint(root / "checkpoints" / "warmup_complete.pt")
        return [m.residual_gate is not None for m in model.modules() if isinstance(m, AttentionModule)]

    common = {"data": "pcb-mini.yaml", "pretrained": str(pretrained_baseline), "stage": "warmup", "epochs": 1}
    paper = train("yolov8n-cbam.yaml", attn_init="paper", project=str(tmp_path), name="paper", **common, **TINY)
    identity = train("yolov8n-cbam.yaml", project=str(tmp_path), name="identity", **common, **TINY)
    assert gates(paper) and not any(gates(paper))
    assert any(gates(identity))  # the default: each new layer behind a zero residual gate
    plan = json.loads((paper / "experiment.json").read_text())["plan"]
    assert "attn_init: paper" in (paper / plan["arch"]).read_text()


def test_a_phase_switching_attention_the_model_lacks_is_warned_about(monkeypatch):
    from yolo_attention.training import plan as plan_module

    logged = []
    monkeypatch.setattr(plan_module, "log", lambda message, warning=False: logged.append((message, warning)))
    phases = load_schedule("four-phase").phases
    plan_module._warn_switches_that_match_nothing(YOLO("yolov8n-cbam.yaml"), phases)
    assert [w for _, w in logged] == [True, True]  # phase2a and phase2b name ECA, which CBAM does not contain
    assert logged[0][0].startswith("phase 'phase2a' switches ECA, which the model does not have (its attention: CBAM")
    logged.clear()
    plan_module._warn_switches_that_match_nothing(YOLO("yolov8n-ecasam.yaml"), phases)
    assert logged == []


@pytest.mark.slow
def test_pose_model_two_stage(tmp_path):
    """Detection and pose: a synthetic pose dataset, yolov8n-pose-cbam, baseline phase then two stages."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, n in (("train", 8), ("val", 4)):
        (tmp_path / "images" / split).mkdir(parents=True)
        (tmp_path / "labels" / split).mkdir(parents=True)
        for k in range(n):
            img = np.full((64, 64, 3), 255, np.uint8)
            x, y = rng.integers(8, 36, 2)
            img[y : y + 20, x : x + 20] = 0
            Image.fromarray(img).save(tmp_path / "images" / split / f"{k}.jpg")
            corners = [(x, y), (x + 20, y), (x, y + 20), (x + 20, y + 20)]
            kpts = " ".join(f"{cx / 64:.4f} {cy / 64:.4f} 2" for cx, cy in corners)
            label = f"0 {(x + 10) / 64:.4f} {(y + 10) / 64:.4f} {20 / 64:.4f} {20 / 64:.4f} {kpts}\n"
            (tmp_path / "labels" / split / f"{k}.txt").write_text(label)
    data = tmp_path / "square.yaml"
    data.write_text("train: images/train\nval: images/val\nkpt_shape: [4, 3]\nflip_idx: [1, 0, 3, 2]\nnames: {0: sq}\n")
    root = train(
        "yolov8n-pose-cbam.yaml",
        data=str(data),
        project=str(tmp_path),
        name="pose",
        **TINY,
        **{"model.pretrain_epochs": 1, "training_strategy.warmup.epochs": 1, "training_strategy.finetune.epochs": 1},
    )
    final, _ = load_checkpoint(root / "checkpoints/final_model.pt")
    assert type(final).__name__ == "PoseModel" and final.kpt_shape == [4, 3]
    assert [i for i, m in enumerate(final.model) if type(m).__name__ == "CBAM"] == [5, 8, 12]


KILL_SCRIPT = """
import sys
from yolo_attention.cli.main import cli
sys.argv = ["yolo-attn", "train", *sys.argv[1:]]
cli()
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "kill_at,truncate",
    [
        ("finetune:on_model_save:0", False),  # mid-phase, after epoch 1 of 2 was saved
        ("finetune:on_model_save:0", True),  # ... and last.pt truncated, as when killed while writing it
        ("warmup:on_model_save:0", False),  # after the save of the phase's last epoch, before its final evaluation
        ("warmup:phase_done:*", False),  # at the phase boundary
    ],
)
def test_resume_after_a_kill(kill_at, truncate, pretrained_baseline, tmp_path):
    """SIGKILL a real training process at a named point (test hook), move the folder, `yolo-attn train resume=`."""
    from yolo_attention.training.callbacks import KILL_ENV

    args = [
        "model=yolov8n-cbam.yaml",
        "data=pcb-mini.yaml",
        f"pretrained={pretrained_baseline}",
        f"project={tmp_path}",
        "name=kill",
        "imgsz=64",
        "batch=8",
        "workers=0",
        "plots=False",
        "warmup_epochs=0",
        "training_strategy.warmup.epochs=1",
        "training_strategy.finetune.epochs=2",
    ]
    env = {**os.environ, "YOLO_OFFLINE": "1", KILL_ENV: kill_at}
    process = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, *args], cwd=tmp_path, env=env, capture_output=True, timeout=600
    )
    assert process.returncode == -signal.SIGKILL, process.stderr[-2000:]
    (root,) = tmp_path.glob("kill_*")
    state = json.loads((root / "experiment.json").read_text())
    assert [p["status"] for p in state["phases"]][0] in ("running", "done")
    assert (root / "finetune/results.csv").exists() == kill_at.startswith("finetune")
    if truncate:
        last = root / "finetune/weights/last.pt"
        last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])
    moved = tmp_path / "moved" / "exp"  # the experiment folder can be moved: every stored path is relative
    moved.parent.mkdir()
    shutil.move(str(root), str(moved))

    result = CliRunner().invoke(cli, ["train", f"resume={moved}"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    state = json.loads((moved / "experiment.json").read_text())
    assert [(p["name"], p["status"]) for p in state["phases"]] == [("warmup", "done"), ("finetune", "done")]
    assert [int(r["epoch"]) for r in read_results(moved / "warmup/results.csv")] == [1]
    assert [int(r["epoch"]) for r in read_results(moved / "finetune/results.csv")] == [1, 2]  # as uninterrupted
    for name in ("warmup_complete.pt", "finetune_complete.pt", "final_model.pt"):
        load_checkpoint(moved / "checkpoints" / name)  # readable
    assert not root.exists()  # nothing was written back to the old place
    log = (moved / "logs/train.log").read_text()
    if kill_at.startswith("finetune"):
        assert "resuming phase 'finetune'" in log
    if truncate:
        assert "last.pt is unreadable" in log
    summary = json.loads((moved / "results/training_summary.json").read_text())
    assert [r["model"] for r in summary["evaluation"]][-2:] == ["after warmup", "after finetune"]


@pytest.mark.slow
def test_pcb_model_two_stage_on_pcb_mini(tmp_path):
    """A P2-P5 PCB model with attention: baseline phase (yolov8n-pcb), then one epoch of each stage."""
    root = train(
        "yolov8n-pcb-cbam.yaml",
        data="pcb-mini.yaml",
        project=str(tmp_path),
        name="pcb",
        **TINY,
        **{"model.pretrain_epochs": 1, "training_strategy.warmup.epochs": 1, "training_strategy.finetune.epochs": 1},
    )
    summary = json.loads((root / "results/training_summary.json").read_text())
    assert [p["name"] for p in summary["phases"]] == ["pretrain", "warmup", "finetune"]
    final, _ = load_checkpoint(root / "checkpoints/final_model.pt")
    assert [i for i, m in enumerate(final.model) if type(m).__name__ == "CBAM"] == [3, 6, 9, 13]
    frozen = [i for i in range(len(final.model)) if i not in (3, 6, 9, 13)]  # the warm-up trains only attention
    assert summary["phases"][1]["frozen_layers"] == frozen
    assert len(final.model[-1].cv2) == 4  # heads at P2, P3, P4, P5
