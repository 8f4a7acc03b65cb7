"""What the user reads: bad values refused in one line before anything runs, tables whose columns stay apart, help
that names every choice. Nothing here trains; a model is loaded at most (the shipped checkpoint, a face YAML)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from yolo_attention.cli.main import cli

BOARD = "datasets/pcb-mini/images/val/00041124.jpg"


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def assert_one_line_error(result, fragment: str, code: int | None = None):
    assert "Traceback" not in result.output
    assert result.output.strip().splitlines() == [result.output.strip()], result.output
    assert result.output.startswith("Error: ") and fragment in result.output, result.output
    if code is not None:
        assert result.exit_code == code, result.output


@pytest.mark.parametrize(
    "args,expected",
    [
        (["train", "resume"], "resume needs a value: resume=<experiment folder>"),
        (["predict", "model=m.pt", "visuals"], "visuals needs a value: visuals=True or visuals=False"),
        (["val", "model=m.pt", "imgsz"], "imgsz needs a value: imgsz=<int>"),
        (["export", "model"], "model needs a value: model=<checkpoint or model YAML>"),
        (["compare", "seeds"], "seeds needs a value: seeds=<int>"),
        (["convert", "deeppcb", "src"], "src needs a value: src=..."),
    ],
)
def test_a_key_without_its_value_says_so(args, expected):
    result = invoke(*args)
    assert_one_line_error(result, expected, 2)
    assert "Did you mean" not in result.output  # never the very word typed


@pytest.mark.parametrize(
    "args,fragment",
    [
        ("conf=5", "conf=5.0 is not a confidence in [0, 1]"),
        ("conf=-0.1", "is not a confidence in [0, 1]"),
        ("imgsz=-3", "imgsz must be an int >= 32"),
        ("imgsz=16", "imgsz must be an int >= 32"),
    ],
)
@pytest.mark.parametrize("protocol", ["deeppcb", "ultralytics"])
def test_val_refuses_what_predict_refuses(args, fragment, protocol, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("val", "model=yolov8n-deeppcb.pt", "data=pcb-mini.yaml", f"protocol={protocol}", args)
    assert_one_line_error(result, fragment, 1)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    "model,extra",
    [
        ("yolov8n-deeppcb.pt", []),  # sliced
        ("yolov8n-deeppcb.pt", ["slice_size=0"]),  # whole images
        ("yolov8n-face-ecasam-lite.yaml", []),  # a pose model: whole images with keypoints
    ],
)
@pytest.mark.parametrize("imgsz", ["-5", "0", "31"])
def test_predict_refuses_an_inference_size_below_32(model, extra, imgsz, repo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("predict", f"model={model}", f"source={repo / BOARD}", f"imgsz={imgsz}", *extra)
    assert_one_line_error(result, f"imgsz must be an int >= 32 (a square inference size, e.g. 640), got {imgsz}", 1)
    assert not (tmp_path / "runs").exists()


def test_predict_takes_json_csv_as_both(monkeypatch, tmp_path):
    from yolo_attention.inference import sliced

    calls = []
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sliced, "predict_boards", lambda *a, **k: calls.append(k) or [])
    (tmp_path / "m.pt").write_bytes(b"")  # a file: the missing-checkpoint check passes, predict_boards is stubbed
    result = invoke("predict", "model=m.pt", "source=boards", "format=json,csv")
    assert result.exit_code == 0, result.output
    assert calls[-1]["format"] == "both"


@pytest.mark.parametrize(
    "args", [["runs/A", "runs/B"], ["folder=runs/A", "runs/B"], ["folder=runs/A", "folder=runs/B"]]
)
def test_report_takes_one_folder(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("report", *args)
    assert_one_line_error(result, "report takes one folder, got 2: runs/A, runs/B", 2)


def test_compare_suggests_only_keys_it_takes():
    result = invoke("compare", "modle=x")
    assert_one_line_error(result, "Did you mean 'models'?", 2)


@pytest.mark.parametrize("key", ["mode", "task", "model", "seed", "name", "project", "resume"])
def test_compare_refuses_keys_it_sets_itself(key, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("compare", "data=pcb-mini.yaml", "models=yolov8n-eca.yaml", "pretrained=p.pt", f"{key}=x")
    assert_one_line_error(result, f"'{key}=' is not an argument of compare: ", 2)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("channels", ["abc", "0,-4", "", "64,,128", "64,1.5"])
def test_modules_refuses_bad_channels_before_the_table(channels):
    result = invoke("modules", "--channels", channels)
    assert_one_line_error(
        result, f"channels must be positive ints separated by commas, e.g. 64,128,256; got '{channels}'"
    )
    assert "params@" not in result.output


def test_models_and_modules_take_key_value_pairs_as_every_other_command():
    """They took only --scale / --channels, the one exception to the key=value grammar."""
    for args in (
        ("modules", "channels=32,48"),
        ("modules", "--channels", "32,48"),
        ("modules", "--channels", "32,48", "channels=32,48"),
    ):
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[0].split()[1:3] == ["params@32", "params@48"]
    result = invoke("models", "scale=s")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].split()[:2] == ["yolov8s.yaml", "23"]


@pytest.mark.parametrize(
    "row",
    [
        ("yolov8n-face-ecasam-lite.yaml", 26, 487_161, -2_596_263, 2.41),
        ("yolov8s-face-ecasam-lite.yaml", 26, 1_369_647, -10_053_905, 4.1),
        ("yolov8x-glsa.yaml", 25, 69_553_648, 1_339_676, 258.1),
        ("yolov8x.yaml", 23, 68_229_648, None, 258.55),
    ],
)
def test_models_table_columns_stay_apart(row):
    from yolo_attention.cli.info_cmd import table_row

    width = len("yolov8n-face-ecasam-lite.yaml")
    header = table_row("model", "layers", "params", "vs base", "GFLOPs", width)
    line = table_row(*row, name_width=width)
    name, layers, params, diff, flops = row
    expected = [name, str(layers), f"{params:,}", *([f"{diff:+,}"] if diff is not None else []), f"{flops:.2f}"]
    assert line.split() == expected
    assert len(line) == len(header)  # numbers right-aligned under their titles
    if diff is not None:
        assert line.index(f"{diff:+,}") + len(f"{diff:+,}") == header.index("vs base") + len("vs base")


def test_top_level_help_names_every_export_format():
    from yolo_attention.export.runtimes import FORMATS

    [line] = [line for line in invoke("--help").output.splitlines() if "yolo-attn export" in line]
    assert all(fmt in line for fmt in FORMATS), line


def test_train_help_names_every_bundled_schedule():
    from yolo_attention.resources import SCHEDULE_DIR

    [line] = [line for line in invoke("train", "-h").output.splitlines() if line.strip().startswith("schedule=")]
    names = {p.stem for p in SCHEDULE_DIR.glob("*.yaml")}
    assert names >= {"two-stage", "four-phase", "four-phase-face"}
    assert all(f" {name}," in line for name in names), line


def test_a_group_without_its_command_shows_its_help_as_yolo_attn_does():
    top, group = invoke(), invoke("convert")
    assert group.exit_code == top.exit_code
    assert "Error" not in group.output and "Error" not in top.output
    assert "convert [OPTIONS] COMMAND" in group.output
    assert all(name in group.output for name in ("deeppcb", "hripcb", "widerface"))


@pytest.mark.parametrize(
    "token,message",
    [
        ("modle=x.yaml", "Did you mean 'model'?"),  # not Ultralytics' `mode`, which train refuses
        ("mode=predict", "mode=predict is not a train argument: yolo-attn train always trains"),
        ("format=onnx", "format=onnx is not a train argument: to export after training, give export=<formats>"),
    ],
)
def test_train_refuses_keys_it_sets_itself_and_never_suggests_them(token, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["train", token])
    assert result.exit_code != 0 and message in result.output and "Traceback" not in result.output, result.output
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["export", "model=nope.pt"],
        ["benchmark", "model=nope.pt"],
        ["benchmark", "model=yolov8n-cbam.yaml", "baseline=nope.pt"],
        ["val", "model=nope.pt", "data=pcb-mini.yaml"],
        ["predict", "model=nope.pt", "source=."],
        ["explain", "model=nope.pt", "source=."],
    ],
)
def test_a_missing_checkpoint_is_one_line_and_names_the_shipped_ones(args, tmp_path, monkeypatch):
    """Ultralytics would try a download (network warnings) and end with a bare Errno 2."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, args)
    key = "baseline" if "baseline=nope.pt" in args else "model"
    expected = f"{key} 'nope.pt' not found: not a file, and not a shipped checkpoint (yolov8n-deeppcb.pt)"
    assert result.exit_code == 1 and expected in result.output, result.output
    assert "GitHub" not in result.output and "Traceback" not in result.output


def test_a_shipped_checkpoint_is_taken_by_name():
    from yolo_attention.cli.overrides import check_model_path

    check_model_path("yolov8n-deeppcb.pt")  # export refused it by name before


def test_export_says_the_export_failed_when_it_did_not_get_to_verification(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["export", "model=yolov8n-cbam.yaml", "format=onnx", "imgsz=64", "device=7"])
    assert result.exit_code == 1 and "export failed for onnx (fp32); see above" in result.output, result.output
    assert "verification failed" not in result.output


def test_train_refuses_two_configuration_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text("data: {config_path: pcb-mini.yaml}\n")
    result = CliRunner().invoke(cli, ["train", "--config", "a.yaml", "config=b.yaml"])
    assert result.exit_code != 0 and "two configuration files: --config a.yaml and config=b.yaml" in result.output
    assert not (tmp_path / "runs").exists()
