"""Registration with Ultralytics: names in model YAMLs, inferred channels, lookups, errors, checkpoints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from ultralytics import YOLO
from ultralytics.nn.tasks import DetectionModel

import yolo_attention
from yolo_attention.integration import LayerBuildError, attention_layer_indices
from yolo_attention.modules import CBAM, ECA, AttentionModule


def user_cfg(*inserted, scale="n"):
    """A small user YAML dict: a 4-layer backbone, then the given layers, then a Detect head on the last layer."""
    return {
        "nc": 3,
        "scales": {"n": [0.33, 0.25, 1024], "s": [0.33, 0.50, 1024]},
        "scale": scale,
        "backbone": [
            [-1, 1, "Conv", [64, 3, 2]],
            [-1, 1, "Conv", [128, 3, 2]],
            [-1, 1, "Conv", [256, 3, 2]],
            # 200 * width is 56 (n) or 104 (s): a channel count nobody hard-codes, unlike layer 2's 64 or 128, so a
            # layer reading `from` 2 and one reading the previous layer get different channels
            [-1, 1, "Conv", [200, 3, 1]],
            *inserted,
        ],
        "head": [[[-1], 1, "Detect", ["nc"]]],
    }


def test_import_is_idempotent_and_registers_every_module():
    import importlib

    from ultralytics.nn import tasks

    before = tasks.parse_model
    importlib.reload(yolo_attention)
    yolo_attention.integration.install()
    assert tasks.parse_model is before  # not wrapped twice
    for name in ("CBAM", "ECA", "CoordAtt", "SE", "SAM", "ECASAM"):
        assert name in yolo_attention.MODULES
        assert issubclass(tasks.__dict__[name], torch.nn.Module)


@pytest.mark.parametrize("scale,expected", [("n", 64), ("s", 128)])
def test_yaml_layers_get_true_input_channels_at_every_scale(scale, expected):
    cfg = user_cfg([-1, 1, "CBAM", []], [-1, 1, "ECA", []], [-1, 1, "CBAM", [3]], [2, 1, "SE", []], scale=scale)
    model = DetectionModel(cfg, verbose=False)
    layers = model.model
    assert isinstance(layers[4], CBAM) and layers[4].c1 == make_div(200 * {"n": 0.25, "s": 0.5}[scale])
    assert layers[4].c1 != expected  # else the `from` = 2 check below could not fail
    assert isinstance(layers[5], ECA) and layers[5].c1 == layers[4].c1
    assert layers[6].spatial.conv.kernel_size == (3, 3)  # [3] is CBAM's kernel size, not a channel count
    assert layers[7].c1 == expected  # `from` = 2 reads layer 2's output channels, not the previous layer's
    assert attention_layer_indices(model) == [4, 5, 6, 7]
    assert layers[4].type == "yolo_attention.modules.cbam.CBAM"
    assert layers[4].np == sum(p.numel() for p in layers[4].parameters()) > 0
    # The forward pass feeds each attention layer the tensor its `from` names, with the channels it was built for,
    # and each one attends (changes its input) without changing the shape.
    seen = {}
    for i in (4, 5, 6, 7):
        layers[i].register_forward_hook(
            lambda m, args, y, i=i: seen.__setitem__(i, (args[0].shape, y.shape, not torch.equal(args[0], y)))
        )
    model.eval()
    with torch.no_grad():
        out = model(torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0)))
    for i in (4, 5, 6, 7):
        x_shape, y_shape, attended = seen[i]
        assert x_shape == y_shape and x_shape[1] == layers[i].c1 and attended, i
    assert seen[7][0] == (1, expected, 8, 8)  # layer 2's output: stride 8
    y = out[0] if isinstance(out, (list, tuple)) else out
    assert y.shape == (1, 4 + 3, 8 * 8)  # boxes + 3 classes for the 8x8 cells of the one Detect level (layer 7)
    assert torch.isfinite(y).all()


def make_div(x, d=8):
    import math

    return math.ceil(x / d) * d


def test_repeated_attention_layer_builds_each_with_channels():
    model = DetectionModel(user_cfg([-1, 6, "ECA", []]), verbose=False)  # 6 repeats * depth 0.33 -> 2
    block = model.model[4]
    assert isinstance(block, torch.nn.Sequential) and all(isinstance(m, ECA) and m.c1 == 56 for m in block)
    assert len(block) == 2


@pytest.mark.parametrize("typo,suggestion", [("CBMA", "CBAM"), ("cbam", "CBAM"), ("Coordatt", "CoordAtt")])
def test_unknown_module_names_the_layer_and_the_closest_match(typo, suggestion):
    with pytest.raises(ValueError) as e:
        DetectionModel(user_cfg([-1, 1, typo, []]), verbose=False)
    message = str(e.value)
    assert "layer 4" in message and f"'{typo}'" in message and f"Did you mean '{suggestion}'" in message
    assert "ECA" in message  # the known attention modules are listed


@pytest.mark.parametrize(
    "args,fragment",
    [([256], "256"), ([4], "4"), (["big"], "big"), ([7, 16, 3], "at most")],
)
def test_bad_module_args_name_layer_module_and_value(args, fragment):
    with pytest.raises(LayerBuildError) as e:
        DetectionModel(user_cfg([-1, 1, "CBAM", args]), verbose=False)
    message = str(e.value)
    assert message.startswith("layer 4 (CBAM, 56 input channels)") and fragment in message


def test_attention_with_several_inputs_is_refused():
    with pytest.raises(LayerBuildError, match="one input"):
        DetectionModel(user_cfg([[-1, 2], 1, "ECA", []]), verbose=False)


def test_bundled_names_resolve_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = YOLO("yolov8s-eca.yaml")
    assert attention_layer_indices(model) == [5, 8, 12]
    assert model.model.yaml["scale"] == "s"
    from ultralytics.data.utils import check_det_dataset

    data = check_det_dataset("pcb-mini.yaml")
    assert data["nc"] == 6 and os.path.isdir(data["train"])


def test_a_local_file_wins_over_a_bundled_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "yolov8-eca.yaml").write_text(
        "nc: 2\nbackbone:\n  - [-1, 1, Conv, [16, 3, 2]]\n  - [-1, 1, ECA, []]\nhead:\n  - [[-1], 1, Detect, [nc]]\n"
    )
    model = YOLO("yolov8-eca.yaml")
    assert len(model.model.model) == 3


@pytest.fixture
def forget_registrations():
    """Undo a test's registrations: its names leave the registry and Ultralytics' YAML namespace afterwards."""
    from ultralytics.nn import tasks

    modules, names = dict(yolo_attention.MODULES), set(vars(tasks))
    yield
    yolo_attention.MODULES.clear()
    yolo_attention.MODULES.update(modules)
    for name in set(vars(tasks)) - names:
        delattr(tasks, name)


def test_register_module_makes_a_third_party_class_usable_in_yaml(forget_registrations):
    class Doubler(AttentionModule):
        def attend(self, x):
            return 2 * x

    yolo_attention.register_module(Doubler)
    model = DetectionModel(user_cfg([-1, 1, "Doubler", []]), verbose=False)
    assert isinstance(model.model[4], Doubler) and model.model[4].c1 == 56


def test_a_trailing_mapping_is_keywords_for_a_plain_registered_module(forget_registrations):
    """The README's module: an nn.Module (no AttentionModule argument mapping) still gets YAML keywords by name."""

    class MyAttention(torch.nn.Module):
        def __init__(self, c1, gain=1.0, bias=0.0):
            super().__init__()
            self.c1, self.gain, self.bias = c1, gain, bias

        def forward(self, x):
            return x * self.gain + self.bias

    yolo_attention.register_module(MyAttention)
    model = DetectionModel(user_cfg([-1, 1, "MyAttention", [{"gain": 3.0}]]), verbose=False)
    assert (model.model[4].c1, model.model[4].gain, model.model[4].bias) == (56, 3.0, 0.0)
    model = DetectionModel(user_cfg([-1, 1, "MyAttention", [2.0, {"bias": 1.0}]]), verbose=False)
    assert (model.model[4].gain, model.model[4].bias) == (2.0, 1.0)
    with pytest.raises(LayerBuildError, match=r"layer 4 \(MyAttention, 56 input channels\).*'scale'"):
        DetectionModel(user_cfg([-1, 1, "MyAttention", [{"scale": 3.0}]]), verbose=False)


@pytest.mark.parametrize("args", [7, "7", None])
def test_layer_args_that_are_not_a_list_name_the_layer(args):
    with pytest.raises(ValueError, match=rf"layer 4 \(CBAM\).*args must be a list.*got {args!r}"):
        DetectionModel(user_cfg([-1, 1, "CBAM", args]), verbose=False)


@pytest.mark.parametrize(
    "keys,message",
    [
        ({"attn_init": "papr"}, r"attn_init must be one of identity, paper, got 'papr'"),
        ({"attention": {"module": "CBMA", "after": [3]}}, r"'CBMA' is not an attention module.*Did you mean 'CBAM'"),
        ({"attention": {"module": "ECA", "after": [3]}}, r"must name the attention module its layers use: CBAM"),
        ({"attention": "CBAM"}, r"'attention:' must be \{module: <name>, after: .*got 'CBAM'"),
        ({"attention": {"module": ["CBAM"]}}, r"must name its module, e\.g\. \{module: CBAM, after: \[4\]\}"),
    ],
)
def test_wrong_yolo_attention_keys_in_a_model_yaml_are_refused_when_it_is_built(keys, message):
    """attn_init was refused only when weights were loaded into the model, and the attention record never."""
    cfg = user_cfg([-1, 1, "CBAM", []])
    DetectionModel({**cfg, "attn_init": "paper", "attention": {"module": "CBAM", "after": [3]}}, verbose=False)
    with pytest.raises(ValueError, match=message):
        DetectionModel({**cfg, **keys}, verbose=False)


@pytest.fixture
def thirdparty(tmp_path):
    """An installed third-party package declaring a `Gain` module in the `yolo_attention.modules` entry-point group;
    returns the environment for a fresh process that sees it."""
    pkg = tmp_path / "thirdparty_attn.py"
    pkg.write_text(
        textwrap.dedent(
            """
            import torch
            class Gain(torch.nn.Module):
                def __init__(self, c1, gain=1.0):
                    super().__init__()
                    self.gain = gain
                def forward(self, x):
                    return x * self.gain
            """
        )
    )
    dist = tmp_path / "thirdparty_attn-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-attn\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[yolo_attention.modules]\nGain = thirdparty_attn:Gain\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}


def _run(code: str, env: dict, cwd) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


GAIN_CFG = {
    "nc": 1,
    "backbone": [[-1, 1, "Conv", [8, 3, 2]], [-1, 1, "Gain", [2.0]]],
    "head": [[[-1], 1, "Detect", ["nc"]]],
}


def test_entry_point_modules_are_registered_on_first_use(thirdparty, tmp_path):
    """A package that declares `yolo_attention.modules` entry points is usable in a model YAML after
    `import yolo_attention`, and listed by the registry."""
    code = (
        "import yolo_attention; from ultralytics.nn.tasks import DetectionModel;"
        f"m=DetectionModel({GAIN_CFG!r}, verbose=False); print(type(m.model[1]).__name__, m.model[1].gain)"
    )
    assert _run(code, thirdparty, tmp_path) == "Gain 2.0"
    code = "import yolo_attention as ya; print('Gain' in ya.MODULES, ya.get_module('gain').__module__)"
    assert _run(code, thirdparty, tmp_path) == "True thirdparty_attn"


def test_entry_point_discovery_makes_another_thread_wait(thirdparty, tmp_path):
    """While one thread imports the entry points' modules (slowly here), another thread reading the registry waits for
    them instead of seeing it without them (it would then, e.g., refuse a weights-only checkpoint)."""
    module = tmp_path / "thirdparty_attn.py"
    module.write_text("import time\ntime.sleep(1.0)\n" + module.read_text())
    code = (
        "import threading, time, yolo_attention; from yolo_attention.modules import load_entry_points; seen = [];"
        "first = threading.Thread(target=load_entry_points); first.start(); time.sleep(0.3);"
        "second = threading.Thread(target=lambda: seen.append('Gain' in yolo_attention.MODULES)); second.start();"
        "first.join(); second.join(); print(seen)"
    )
    assert _run(code, thirdparty, tmp_path) == "[True]"


def test_entry_point_module_checkpoint_loads_weights_only(thirdparty, tmp_path):
    """A checkpoint holding an entry-point module loads under ULTRALYTICS_SAFE_LOAD=1 after `import yolo_attention`
    alone: the module joins the weights-only allow-list before the file is read."""
    (tmp_path / "gain.yaml").write_text(json.dumps(GAIN_CFG))  # JSON is YAML
    code = "import yolo_attention; from ultralytics import YOLO; YOLO('gain.yaml').save('gain.pt'); print('saved')"
    assert _run(code, thirdparty, tmp_path) == "saved"
    safe = {**thirdparty, "ULTRALYTICS_SAFE_LOAD": "1"}
    code = "import yolo_attention; from ultralytics import YOLO; m = YOLO('gain.pt'); print(m.model.model[1].gain)"
    assert _run(code, safe, tmp_path) == "2.0"
    # the load above was weights-only: without the plugin the class is refused
    code = "from ultralytics import YOLO; YOLO('gain.pt')"
    refused = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=safe, cwd=tmp_path)
    assert refused.returncode != 0 and "gain.pt" in refused.stderr, refused.stderr[-2000:]


LOAD_SCRIPT = """
import sys
from ultralytics import YOLO
if sys.argv[3] == "1":  # weights-only loading needs the plugin's classes on the allow-list first
    import yolo_attention
model = YOLO(sys.argv[1])  # a plain load imports the plugin through the pickled class paths
from yolo_attention import attention_layer_indices
print("layers", attention_layer_indices(model))
results = model.predict(sys.argv[2], imgsz=64, verbose=False)
print("boxes", len(results[0].boxes))
"""


@pytest.mark.slow
@pytest.mark.parametrize("safe_load", ["0", "1"])
def test_checkpoint_loads_in_a_fresh_process(trained_cbam, repo, tmp_path, safe_load):
    """best.pt of a real training loads with YOLO(...) in a new process, also with ULTRALYTICS_SAFE_LOAD=1."""
    assert trained_cbam.is_file()
    image = next((repo / "datasets" / "pcb-mini" / "images" / "val").glob("*.jpg"))
    env = {**os.environ, "ULTRALYTICS_SAFE_LOAD": safe_load}
    out = subprocess.run(
        [sys.executable, "-c", LOAD_SCRIPT, str(trained_cbam), str(image), safe_load],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "layers [5, 8, 12]" in out.stdout and "boxes" in out.stdout


def test_public_api_is_importable_from_the_package():
    for name in yolo_attention.__all__:
        assert getattr(yolo_attention, name) is not None, name
    assert callable(yolo_attention.train) and callable(yolo_attention.insert)
