"""One grammar for every command family: keys are the Python parameter names, `format=` where formats are chosen,
old keys still work with one warning line, and a wrong key or value type is one line, never a traceback.

The Python function each command calls is replaced by a recorder that binds the call to the real signature, so a
key the function does not take fails here; nothing is trained, exported or converted.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from yolo_attention.cli import compare_cmd, convert_cmd, export_cmd, predict_cmd, val_cmd
from yolo_attention.cli.main import cli
from yolo_attention.cli.overrides import DEPRECATED_KEYS, check_type, parse_overrides, ultralytics_keys
from yolo_attention.cli.train_cmd import train_keys

# command path -> (module and name of the Python function it calls, its keys, keys that are not Python parameters)
FAMILIES = {
    "train": ("yolo_attention.training.runner", "train", None, set()),
    "convert deeppcb": ("yolo_attention.data", "convert_deeppcb", convert_cmd.DEEPPCB_KEYS, set()),
    "convert hripcb": ("yolo_attention.data.hripcb", "convert_hripcb", convert_cmd.HRIPCB_KEYS, set()),
    "predict": ("yolo_attention.inference.sliced", "predict_boards", predict_cmd.PREDICT_KEYS, set()),
    "val": ("yolo_attention.eval.deeppcb", "evaluate_model", val_cmd.VAL_KEYS, {"protocol"}),
    "export": ("yolo_attention.export.exporter", "export_and_verify", export_cmd.EXPORT_KEYS, set()),
    "benchmark": ("yolo_attention.export.benchmark", "run_benchmark", export_cmd.BENCHMARK_KEYS, set()),
}
KEYED = [name for name, family in FAMILIES.items() if family[2] is not None]
# a value of each type, as typed and as the function must receive it
SAMPLES = {int: ("7", 7), float: ("0.3", 0.3), bool: ("False", False), str: ("x", "x")}
# values a command needs to reach its function (`protocol=deeppcb` skips reading the data to choose one)
GIVEN = {
    "predict": {"format": ("csv", "csv")},
    "val": {"protocol": ("deeppcb", None), "imgsz": ("64", 64)},  # val refuses imgsz < 32 itself
    "export": {"format": ("onnx,openvino", "onnx,openvino")},
    "benchmark": {"format": ("onnx,torchscript", "onnx,torchscript")},
}


def python_parameters(command: str) -> dict[str, inspect.Parameter]:
    module, name, _, _ = FAMILIES[command]
    parameters = dict(inspect.signature(getattr(importlib.import_module(module), name)).parameters)
    if command == "predict":  # predict_boards passes its **merge on to predict_board
        from yolo_attention.inference.sliced import predict_board

        parameters.update(inspect.signature(predict_board).parameters)
    return parameters


def sample(command: str, key: str, kind) -> tuple[str, object]:
    if key in GIVEN.get(command, {}):
        return GIVEN[command][key]
    kind = next(k for k in (kind if isinstance(kind, tuple) else (kind,)) if k is not None)
    return SAMPLES[kind]


@pytest.fixture
def recorder(monkeypatch, tmp_path):
    """Replace the function `command` calls with one that records the call, bound to the real signature."""
    monkeypatch.chdir(tmp_path)
    calls = []

    def install(command: str):
        module_name, name, _, _ = FAMILIES[command]
        module = importlib.import_module(module_name)
        signature = inspect.signature(getattr(module, name))

        def fake(*args, **kwargs):
            calls.append(signature.bind(*args, **kwargs).arguments)  # a key the function lacks fails here
            if name == "evaluate_model":
                return None, None
            return (
                []
                if name in ("predict_boards", "export_and_verify")
                else SimpleNamespace(summary=lambda: "summary", out=tmp_path, table=lambda: "table")
            )

        monkeypatch.setattr(module, name, fake)
        if name == "evaluate_model":
            monkeypatch.setattr(module, "format_report", lambda *a: "report")
        return calls

    return install


def invoke(*args: str):
    return CliRunner().invoke(cli, [a for arg in args for a in arg.split(" ")] if args else [], catch_exceptions=False)


@pytest.mark.parametrize("command", KEYED)
def test_keys_are_the_python_parameter_names(command):
    _, _, keys, cli_only = FAMILIES[command]
    assert set(keys) - cli_only <= set(python_parameters(command))


def test_train_keys_include_the_python_parameter_names():
    from yolo_attention.training.runner import train

    named = [p.name for p in inspect.signature(train).parameters.values() if p.kind is not p.VAR_KEYWORD]
    assert set(named) <= train_keys()
    assert {"pretrained", "attn", "where", "export", "epochs", "lr0"} <= train_keys()  # **overrides


@pytest.mark.parametrize("command", KEYED)
def test_python_defaults_are_valid_cli_values(command):
    _, _, keys, _ = FAMILIES[command]
    for key, parameter in python_parameters(command).items():
        if key in keys and parameter.default not in (inspect.Parameter.empty, None):
            check_type(key, parameter.default, keys[key])


def test_val_defaults_equal_evaluate_models():
    parameters = python_parameters("val")
    for key, value in val_cmd.VAL_DEFAULTS.items():
        if key not in ("protocol", "out"):  # out: the command writes under runs/val, the function nowhere
            assert parameters[key].default == value, key


@pytest.mark.parametrize("command", KEYED)
def test_every_key_reaches_the_parameter_of_its_name(command, recorder):
    _, _, keys, cli_only = FAMILIES[command]
    calls = recorder(command)
    tokens, expected = [], {}
    for key, kind in keys.items():
        text, value = sample(command, key, kind)
        tokens.append(f"{key}={text}")
        if key not in cli_only:
            expected[key] = Path(value).resolve() if key == "out" and command in ("predict", "val") else value
    result = invoke(command, *tokens)
    assert result.exit_code == 0, result.output
    assert "Warning" not in result.output
    [call] = calls
    received = {**call.pop("merge", {}), **call}  # predict: predict_board's keys travel in **merge
    assert received == expected


@pytest.mark.parametrize("command", ["predict", "export", "benchmark"])
def test_format_is_accepted(command, recorder):
    calls = recorder(command)
    text, value = GIVEN[command]["format"]
    needed = ["model=yolov8n-cbam.yaml", *(["source=boards"] if command == "predict" else [])]
    result = invoke(command, *needed, f"format={text}")
    assert result.exit_code == 0, result.output
    assert calls[-1]["format"] == value


@pytest.mark.parametrize(
    "command,old,new,text,value",
    [
        ("benchmark", "formats", "format", "onnx", "onnx"),
        ("benchmark", "out", "out_dir", "keep", "keep"),
        ("export", "out", "out_dir", "exports", "exports"),
        ("export", "subset", "subset_size", "8", 8),
        ("predict", "slice", "slice_size", "320", 320),
        ("predict", "full", "full_image", "True", True),
    ],
)
def test_old_keys_still_work_with_one_warning(command, old, new, text, value, recorder):
    assert DEPRECATED_KEYS[command][old] == new
    calls = recorder(command)
    needed = ["model=yolov8n-cbam.yaml", *(["source=boards"] if command == "predict" else [])]
    result = invoke(command, *needed, f"{old}={text}")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if "deprecated" in line]
    assert len(warnings) == 1 and f"'{new}='" in warnings[0] and f"'{old}='" in warnings[0]
    call = {**calls[-1].pop("merge", {}), **calls[-1]}
    assert call[new] == value


def test_old_and_new_key_together_is_an_error():
    result = invoke("predict", "model=m.pt", "source=b", "slice=320", "slice_size=640")
    assert result.exit_code == 2 and "same argument" in result.output


def test_deprecated_keys_point_at_current_keys():
    for command, aliases in DEPRECATED_KEYS.items():
        keys = FAMILIES[command][2]
        assert set(aliases.values()) <= set(keys) and not set(aliases) & set(keys), command


@pytest.mark.parametrize(
    "args,fragment,code",
    [
        ("train epochs=abc", "epochs='abc' is not valid", 1),
        ("train epoch=3", "Did you mean 'epochs'", 2),
        ("convert hripcb src=a out=b tile=abc", "tile must be an int or None, not 'abc'", 2),
        ("convert hripcb src=a out=b tiles=640", "Did you mean 'tile'", 2),
        ("convert deeppcb src=a out=b templates=3", "templates must be True or False, not 3", 2),
        ("predict model=m.pt source=b slice_size=abc", "slice_size must be an int, not 'abc'", 2),
        ("predict model=m.pt source=b formt=csv", "Did you mean 'format'", 2),
        ("val model=m.pt data=d.yaml imgsz=[64,32]", "imgsz must be an int, not [64, 32]", 2),
        ("val model=m.pt data=d.yaml protcol=deeppcb", "Did you mean 'protocol'", 2),
        ("export model=m.yaml images=many", "images must be an int, not 'many'", 2),
        ("export model=m.yaml formt=onnx", "Did you mean 'format'", 2),
        ("benchmark model=m.yaml runs=1.5", "runs must be an int, not 1.5", 2),
        ("benchmark model=m.yaml fromat=onnx", "Did you mean 'format'", 2),
        ("modules --channels 64,abc", "channels must be positive ints separated by commas", 2),
        ("modules channels=64,abc", "channels must be positive ints separated by commas", 2),
        ("modules chanels=64", "Did you mean 'channels'", 2),
        ("models --scale q", "'q' is not one of", 2),
        ("models scale=q", "scale must be one of n, s, m, l, x, got 'q'", 2),
        ("models --scale s scale=m", "two values for scale: --scale s and scale=m; give one", 2),
        (
            "modules --channels 64,128 channels=64,96",
            "two values for channels: --channels 64,128 and channels=64,96",
            2,
        ),
    ],
)
def test_wrong_key_or_value_type_is_one_line(args, fragment, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(args)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.output.strip().splitlines() == [result.output.strip()], result.output
    assert result.output.startswith("Error: ") and fragment in result.output
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("command", [export_cmd.export, export_cmd.benchmark, predict_cmd.predict, val_cmd.val])
def test_a_command_on_its_own_has_the_same_one_line_errors(command):
    result = CliRunner().invoke(command, ["model=m.pt", "imgsz=abc"])
    assert result.exit_code == 2 and result.output.startswith("Error: imgsz must be an int")
    assert len(result.output.strip().splitlines()) == 1


def _help_keys(command) -> set[str]:
    return set(re.findall(r"(?<![\w.])([a-z][\w.]*)=", command.help))


@pytest.mark.parametrize(
    "command,keys",
    [
        (convert_cmd.deeppcb, convert_cmd.DEEPPCB_KEYS),
        (convert_cmd.hripcb, convert_cmd.HRIPCB_KEYS),
        (predict_cmd.predict, predict_cmd.PREDICT_KEYS),
        (val_cmd.val, {**val_cmd.VAL_KEYS, **val_cmd.WIDERFACE_KEYS}),
        (convert_cmd.widerface, convert_cmd.WIDERFACE_KEYS),
        (val_cmd.widerface_eval, {"pred": str, "gt": str}),
        (compare_cmd.compare, {**compare_cmd.COMPARE_KEYS, "imgsz": int, "batch": int, "fraction": float}),
        (export_cmd.export, export_cmd.EXPORT_KEYS),
        (export_cmd.benchmark, export_cmd.BENCHMARK_KEYS),
    ],
)
def test_help_names_every_key_and_no_other(command, keys):
    deprecated = set(DEPRECATED_KEYS.get(command.name, {}))
    other_commands = {"deeppcb": {"split"}}.get(command.name, set())  # "yolo-attn val ... split=test"
    assert _help_keys(command) - deprecated - other_commands == set(keys)


def test_train_help_names_only_keys_it_takes():
    from yolo_attention.cli.train_cmd import train

    keys = _help_keys(train)
    assert {k for k in keys if "." not in k} <= train_keys() and "training_strategy.warmup.epochs" in keys


def test_parse_overrides_keeps_typed_text_for_names():
    assert parse_overrides(["out=0.10", "conf=1"], {"out": str, "conf": float}) == {"out": "0.10", "conf": 1.0}


def test_readme_examples_use_current_keys(repo):
    keys = {name: set(family[2]) for name, family in FAMILIES.items() if family[2] is not None}
    keys["train"] = train_keys()
    keys["val"] = keys["val"] | set(val_cmd.WIDERFACE_KEYS)  # protocol=widerface's own keys
    keys["compare"] = set(compare_cmd.COMPARE_KEYS) | (ultralytics_keys() - set(compare_cmd.COMPARE_SETS))
    keys["widerface-eval"] = {"pred", "gt"}
    examples = [line.split("#")[0].split() for line in (repo / "README.md").read_text().splitlines()]
    examples = [words[1:] for words in examples if words[:1] == ["yolo-attn"]]
    checked = 0
    for words in examples:
        command = " ".join(words[:2]) if words[:1] == ["convert"] else words[0] if words else ""
        for word in words:
            if "=" in word and command in keys:
                key = word.split("=", 1)[0]
                assert key in keys[command] or (command == "train" and "." in key), f"yolo-attn {command}: {word}"
                checked += 1
    assert checked > 20


@pytest.mark.parametrize(
    "module",
    [
        "yolo_attention.cli.overrides",
        "yolo_attention.cli.errors",
        "yolo_attention.cli.info_cmd",
        "yolo_attention.cli.predict_cmd",
    ],
)
def test_docstring_examples_run(module):
    import doctest

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_compare_keys_are_the_python_parameters():
    import inspect

    from yolo_attention.compare.runner import compare

    parameters = set(inspect.signature(compare).parameters) - {"overrides"}
    assert set(compare_cmd.COMPARE_KEYS) == parameters


def test_report_on_a_folder_that_is_neither_is_one_line(tmp_path):
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["report", str(tmp_path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1 and "neither" in result.output
