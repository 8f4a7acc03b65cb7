"""The card's example, `yolo-attn train data=hripcb.yaml model=yolov8n-cbam.yaml`, before and after conversion."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tests.data.hripcb_fixtures import write_many_boards
from yolo_attention.cli.main import cli


@pytest.mark.slow
def test_hripcb_example_says_how_to_convert_then_trains_after_conversion(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    before = runner.invoke(cli, ["train", "data=hripcb.yaml", "model=yolov8n-cbam.yaml"])
    assert before.exit_code == 1
    lines = before.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in before.output, before.output
    assert "hripcb is not bundled" in lines[0]
    assert "yolo-attn convert hripcb src=<PCB_DATASET> out=datasets/hripcb" in lines[0]
    assert "datasets/datasets" not in lines[0]
    assert not (tmp_path / "runs").exists()

    write_many_boards(tmp_path / "PCB_DATASET")
    converted = runner.invoke(cli, ["convert", "hripcb", "src=PCB_DATASET", "out=datasets/hripcb", "tile=0"])
    assert converted.exit_code == 0, converted.output
    trained = runner.invoke(
        cli,
        [
            "train",
            "data=hripcb.yaml",
            "model=yolov8n-cbam.yaml",
            "epochs=1",
            "model.pretrain_epochs=1",
            "imgsz=64",
            "batch=8",
            "workers=0",
        ],
        catch_exceptions=False,
    )
    assert trained.exit_code == 0, trained.output
    summaries = list((tmp_path / "runs" / "experiments").rglob("training_summary.json"))
    assert len(summaries) == 1
