"""Every training value is checked before anything runs and before the experiment folder exists (API and CLI)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from yolo_attention.cli.main import cli
from yolo_attention.training import train
from yolo_attention.training.values import check_value

BAD_VALUES = [
    ("epochs", "abc", "epochs='abc' is not valid: epochs must be an integer >= 1"),
    ("epochs", 0, "epochs=0 is not valid"),
    ("imgsz", -5, "imgsz=-5 is not valid: imgsz must be an integer >= 32"),
    ("batch", 0, "batch=0 is not valid: batch must be an integer >= 1, -1 (auto)"),
    ("batch", -2, "batch=-2 is not valid"),
    ("lr0", -1, "lr0=-1 is not valid: lr0 must be a number > 0"),
    ("lrf", 2.0, "lrf=2.0 is not valid: lrf must be a number in (0, 1]"),
    ("momentum", 1.5, "momentum=1.5 is not valid"),
    ("weight_decay", -0.1, "weight_decay=-0.1 is not valid: weight_decay must be a number >= 0"),
    ("warmup_epochs", "x", "warmup_epochs='x' is not valid"),
    ("patience", -1, "patience=-1 is not valid"),
    ("workers", -1, "workers=-1 is not valid: workers must be an integer >= 0"),
    ("seed", 1.5, "seed=1.5 is not valid"),
    ("mixup", 1.5, "mixup=1.5 is not valid: mixup must be a number in [0, 1]"),
    ("mosaic", -0.5, "mosaic=-0.5 is not valid"),
    ("close_mosaic", -3, "close_mosaic=-3 is not valid"),
    ("optimizer", "Adamm", "optimizer='Adamm' is not valid: optimizer must be one of SGD, MuSGD, Adam, Adamax"),
]


@pytest.mark.parametrize("key,value,message", BAD_VALUES)
def test_bad_value_fails_before_any_folder_python_api(key, value, message, tmp_path):
    project = tmp_path / "exps"
    with pytest.raises(ValueError, match="not valid") as e:
        train("yolov8n-cbam.yaml", data="pcb-mini.yaml", project=str(project), **{key: value})
    assert message in str(e.value)
    assert not project.exists()


@pytest.mark.parametrize("key,value,message", BAD_VALUES[:8:2])
def test_bad_value_fails_before_any_folder_cli(key, value, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["train", f"{key}={value}", f"project={tmp_path / 'exps'}"])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "exps").exists() and not (tmp_path / "runs").exists()


def test_a_device_this_machine_lacks_fails_before_any_folder(tmp_path, monkeypatch):
    """Ultralytics' trainer refused it only when the first phase started, inside a new experiment folder."""
    import torch

    missing = str(torch.cuda.device_count())  # one past the last CUDA index
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["train", f"device={missing}", f"project={tmp_path / 'exps'}"])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert f"Invalid CUDA 'device={missing}' requested" in result.output.splitlines()[-1]
    assert not (tmp_path / "exps").exists() and not (tmp_path / "runs").exists()
    train_args = {"data": "pcb-mini.yaml", "project": str(tmp_path / "api"), "epochs": 1, "imgsz": 64}
    with pytest.raises(ValueError, match="CUDA device"):
        train("yolov8n-cbam.yaml", device=missing, **train_args)
    assert not (tmp_path / "api").exists()


def test_good_values_pass():
    for key, value in (("batch", -1), ("batch", 0.7), ("imgsz", 320), ("lr0", 0.01), ("mixup", 0), ("patience", 5)):
        check_value(key, value)


@pytest.mark.parametrize("key", ["model", "pretrained"])
def test_a_file_that_is_not_a_checkpoint(key, tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_text("not a checkpoint")
    project = tmp_path / "exps"
    with pytest.raises(ValueError, match=r"'bad.pt' is not a PyTorch checkpoint \("):
        train(**{key: str(bad)}, data="pcb-mini.yaml", project=str(project))
    assert not project.exists()


def test_missing_weights_and_bad_model_yaml(tmp_path):
    project = tmp_path / "exps"
    with pytest.raises(FileNotFoundError, match="weights 'nope.pt' not found"):
        train("yolov8n-cbam.yaml", data="pcb-mini.yaml", pretrained="nope.pt", project=str(project))
    broken = tmp_path / "broken-n.yaml"
    broken.write_text("nc: 6\nbackbone:\n  - [-1, 1, NoSuchModule, [64]]\nhead:\n  - [-1, 1, Detect, [nc]]\n")
    with pytest.raises(ValueError, match="is not a valid model YAML"):
        train(str(broken), data="pcb-mini.yaml", project=str(project))
    assert not project.exists()


def test_early_stopping_without_validation_is_refused(tmp_path):
    project = tmp_path / "exps"
    with pytest.raises(ValueError, match="early stopping needs validation, but val=False"):
        train("yolov8n-cbam.yaml", data="pcb-mini.yaml", patience=3, val=False, project=str(project))
    assert not project.exists()


def test_patience_enables_early_stopping():
    from yolo_attention.training.config import apply_overrides, load_config

    cfg = apply_overrides(load_config(), {"patience": 3})
    assert cfg["early_stopping"]["enabled"] is True and cfg["early_stopping"]["patience"] == 3


def test_two_experiments_in_the_same_second_get_distinct_folders(tmp_path):
    from yolo_attention.training.experiment import Experiment

    roots = {Experiment.create(tmp_path, "same").root for _ in range(3)}
    assert len(roots) == 3


def test_optimizer_names_are_the_ones_ultralytics_trainer_accepts():
    """`OPTIMIZERS` mirrors the set in Ultralytics' build_optimizer (which refuses other names when a phase starts)."""
    import inspect
    import re

    from ultralytics.engine.trainer import BaseTrainer

    from yolo_attention.training.values import OPTIMIZERS

    found = re.search(r"optimizers = \{([^}]*)\}", inspect.getsource(BaseTrainer.build_optimizer))
    assert found, "Ultralytics' build_optimizer no longer lists its optimizers in a set literal"
    assert set(OPTIMIZERS) == {name.strip().strip("'\"") for name in found.group(1).split(",")}
    check_value("optimizer", "adamw")  # any case, as Ultralytics matches it


@pytest.mark.parametrize(
    "kwargs,error,message",
    [
        ({"export": "onxx"}, ValueError, "unknown export format 'onxx'; valid: onnx"),
        ({"attn_init": "papr"}, ValueError, "attn_init must be one of identity, paper, got 'papr'"),
        ({"model": "yolov8n-deeppcb.pt", "attn_init": "paper"}, ValueError, "is a checkpoint that holds its own"),
        (
            {"schedule": [{"name": "only", "epochs": 1, "attention": {"CBMA": False}}]},
            ValueError,
            "phase 'only': unknown attention kind 'CBMA' in attention:. Known: all, BAM,",
        ),
    ],
)
def test_export_attn_init_and_switches_fail_before_any_folder(kwargs, error, message, tmp_path):
    """Values used only after training (export) or deep in it (attn_init, switches) are checked before it starts."""
    project = tmp_path / "exps"
    with pytest.raises(error) as e:
        train(**{"model": "yolov8n-cbam.yaml", **kwargs}, data="pcb-mini.yaml", project=str(project))
    assert message in str(e.value)
    assert "CBMA" not in message or "Did you mean 'CBAM'?" in str(e.value)
    assert not project.exists()


def test_resume_refuses_other_arguments(tmp_path):
    with pytest.raises(ValueError, match="continues that experiment with the configuration it was started with; "
                       "drop data, epochs"):  # fmt: skip
        train(resume=tmp_path, data="pcb-mini.yaml", epochs=5)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"resume": True}, "resume= takes the experiment folder to continue"),
        ({"mode": "predict"}, "mode=predict is not a train argument: yolo-attn train always trains"),
        ({"format": "onnx"}, "format=onnx is not a train argument: to export after training, give export=<formats>"),
        ({"modle": "x.yaml"}, "'modle' is not a valid argument. Did you mean 'model'?"),
        ({"where": "neck"}, "where=neck places the module that attn= inserts, but attn= is not set"),
        ({"model": "README.md"}, "model=README.md is neither a model YAML (.yaml) nor a checkpoint (.pt)"),
        ({"model": "yolov8n-cbam"}, "did you mean yolov8n-cbam.yaml?"),
    ],
)
def test_keys_a_run_would_ignore_or_misread_are_refused(kwargs, message, tmp_path):
    """Each used to be dropped silently (mode, format, where without attn) or to fail unclearly (resume=True ...)."""
    project = tmp_path / "exps"
    with pytest.raises(ValueError) as e:
        train(**{"data": "pcb-mini.yaml", "project": str(project), **kwargs})
    assert message in str(e.value)
    assert not project.exists()


def test_a_configuration_file_that_is_not_yaml_is_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model:\n  config_path: x\n : : [\n")
    with pytest.raises(ValueError, match=r"'.*bad.yaml' is not valid YAML: .* \(line 3, column \d+\)$"):
        train(config=str(bad))
