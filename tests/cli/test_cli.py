"""The yolo-attn command: listings, one-line errors, a real tiny training run and the DeepPCB converter."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from yolo_attention.cli.main import cli


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


def test_help_lists_the_commands(run):
    result = run("--help")
    assert result.exit_code == 0
    for command in ("modules", "models", "train", "convert"):
        assert command in result.output


def test_modules_lists_every_module_with_parameters(run):
    result = run("modules")
    assert result.exit_code == 0
    rows = {line.split()[0]: line for line in result.output.splitlines()[1:]}
    assert set(rows) == {"CBAM", "ECA", "CoordAtt", "SE", "SAM", "ECASAM", "BAM", "scSE", "SimAM", "GLSA"}
    assert "arXiv:1807.06521" in rows["CBAM"]
    # ECA at 64 channels: one 1-D kernel of size 3 -> 3 parameters
    assert rows["ECA"].split()[1] == "3"


def test_models_lists_bundled_models_with_params_and_gflops(run):
    result = run("models")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    names = [line.split()[0] for line in lines[1:]]
    assert "yolov8n-cbam.yaml" in names and "yolov8n-pose-ecasam.yaml" in names and "yolov8n.yaml" in names
    eca = next(line for line in lines if line.startswith("yolov8n-eca.yaml")).split()
    assert int(eca[3].replace(",", "").lstrip("+")) > 0  # more parameters than the baseline
    assert float(eca[4]) > 1.0  # GFLOPs at 640


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["train", "epoch=3"], "Did you mean 'epochs'"),
        (["train", "model=yolov8n-cbma.yaml", "epochs=1"], "'yolov8n-cbma.yaml' not found"),
        (["train", "model=yolov8s-cbma.yaml", "epochs=1"], "Did you mean 'yolov8s-cbam.yaml'"),
        (["train", "model=yolov8-cbma.yaml", "epochs=1"], "add a scale letter: yolov8n-cbam.yaml). Did you mean"),
        (["convert", "deeppcb", "out=x"], "missing src=..."),
        (["convert", "deeppcb", "src=/nonexistent/PCBData", "out=x"], "/nonexistent/PCBData"),
    ],
)
def test_bad_input_is_one_line_not_a_traceback(run, args, fragment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.exit_code != 0
    assert fragment in result.output
    assert "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.startswith("Error")]) == 1


@pytest.mark.slow
def test_plain_training_with_schedule_none_writes_an_experiment(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("train", "schedule=none", "epochs=1", "imgsz=64", "workers=0", "plots=False", "model=yolov8n-eca.yaml")
    assert result.exit_code == 0, result.output
    (root,) = (tmp_path / "runs" / "experiments").glob("yolov8n-eca_none_*")
    assert (root / "train" / "weights" / "best.pt").is_file() and (root / "checkpoints" / "final_model.pt").is_file()
    assert (root / "train" / "results.csv").read_text().count("\n") == 2  # header + one epoch


@pytest.mark.slow
def test_train_inserts_attention_into_a_pretrained_baseline(run, tmp_path, monkeypatch, pretrained_baseline):
    """attn= where= on a baseline checkpoint: the generated YAML is saved with the run, the weights carry over."""
    import torch
    from ultralytics.nn.tasks import load_checkpoint

    monkeypatch.chdir(tmp_path)
    result = run(
        "train",
        f"model={pretrained_baseline}",
        "attn=eca",
        "where=neck",
        "schedule=none",
        "epochs=1",
        "imgsz=64",
        "workers=0",
        "plots=False",
        "val=False",
        "freeze=backbone",
        "optimizer=SGD",
        "lr0=0.01",
        "warmup_epochs=0",
    )
    assert result.exit_code == 0, result.output
    (root,) = (tmp_path / "runs" / "experiments").glob("last-eca_none_*")
    assert (root / "configs" / "yolov8n-eca-neck.yaml").is_file()
    trained, _ = load_checkpoint(root / "checkpoints" / "final_model.pt")
    source, _ = load_checkpoint(pretrained_baseline)
    assert [i for i, m in enumerate(trained.model) if type(m).__name__ == "ECA"] == [16, 20, 24]
    assert torch.equal(trained.model[0].conv.weight, source.model[0].conv.weight)  # frozen and transferred
