"""BAM, scSE, SimAM and GLSA inside YOLO models: bundled YAMLs and YAML-written strategies build at n and s scale and
train one step, start as an identity after a weight transfer, count as attention for freezing, and load safely."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from click.testing import CliRunner
from ultralytics import YOLO
from ultralytics.cfg import get_cfg

from tests.modules.test_yaml_args import fork_style_yaml
from yolo_attention import attention_layer_indices, layer_map, transfer_weights
from yolo_attention.cli.main import cli
from yolo_attention.integration import LayerBuildError
from yolo_attention.modules import BAM, GLSA, SimAM, scSE
from yolo_attention.resources import MODEL_CFG_DIR
from yolo_attention.training import freeze_indices

NEW = {"bam": (BAM, [5, 8, 12]), "scse": (scSE, [5, 8, 12]), "simam": (SimAM, [5, 8, 12]), "glsa": (GLSA, [7, 11])}
SPPF_CHANNELS = {"n": 256, "s": 512}

# GLSA written in a model YAML with its strategies by name, as a user would; each local and strategy appears once.
GLSA_ARGS = {
    "gp": "[8, CBAM, learnable_gate, progressive]",
    "bam": "[4, BAM, cross_attn, drop_path]",
    "scse": "[8, scSE, channel_attn, learnable_gate]",
    "wa": "[8, CBAM, weighted_add, original, 1]",
    "sa": "[2, scSE, spatial_attn, drop_path, 2, 0.3]",
}


def glsa_yaml(tmp_path, key: str, scale: str) -> str:
    """The bundled yolov8-glsa.yaml with `GLSA, [...]` written in: the file a user edits."""
    text = (MODEL_CFG_DIR / "yolov8-glsa.yaml").read_text().replace("GLSA, []", f"GLSA, {GLSA_ARGS[key]}")
    path = tmp_path / f"yolov8{scale}-glsa-{key}.yaml"
    path.write_text(text)
    return str(path)


def hand_made_batch(seed: int = 0) -> dict:
    """Eight 64x64 images, three boxes (normalised xywh) on the first two: the layout Ultralytics' detection loss reads.

    Eight, so that drop_path (which drops a sample's branch with probability 0.1-0.3) keeps some sample's branch.
    """
    g = torch.Generator().manual_seed(seed)
    return {
        "img": torch.rand(8, 3, 64, 64, generator=g),
        "batch_idx": torch.tensor([0.0, 0.0, 1.0]),
        "cls": torch.tensor([[0.0], [3.0], [7.0]]),
        "bboxes": torch.tensor([[0.5, 0.5, 0.4, 0.3], [0.25, 0.3, 0.2, 0.2], [0.6, 0.55, 0.5, 0.6]]),
    }


def train_one_step(model: YOLO) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """One SGD step on the detection loss; return the parameters before it and their gradients."""
    net = model.model
    net.args = get_cfg()  # the loss gains (box, cls, dfl), as the trainer sets them
    net.train()
    torch.manual_seed(0)  # drop_path draws which samples keep their branch
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    before = {name: p.detach().clone() for name, p in net.named_parameters()}
    loss, _ = net.loss(hand_made_batch())
    assert torch.isfinite(loss).all()
    loss.sum().backward()
    grads = {name: p.grad.detach().clone() for name, p in net.named_parameters() if p.grad is not None}
    optimizer.step()
    return before, grads


def changed(model: YOLO, before: dict[str, torch.Tensor], prefix: str) -> list[str]:
    return [n for n, p in model.model.named_parameters() if n.startswith(prefix) and not torch.equal(p, before[n])]


@pytest.fixture(autouse=True)
def two_threads():
    threads = torch.get_num_threads()
    torch.set_num_threads(min(threads, 2))
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("scale", ["n", "s"])
@pytest.mark.parametrize("kind", list(NEW))
def test_bundled_model_builds_and_trains_one_step(kind, scale):
    cls, attention = NEW[kind]
    model = YOLO(f"yolov8{scale}-{kind}.yaml", verbose=False)
    layers = model.model.model
    assert model.model.yaml["scale"] == scale and attention_layer_indices(model) == attention
    for i in attention:
        assert type(layers[i]) is cls and layers[i].c1 == layers[i - 1].cv2.conv.out_channels
    assert layers[attention[-1]].c1 == SPPF_CHANNELS[scale]
    before, grads = train_one_step(model)
    for i in attention:
        prefix = f"model.{i}."
        if cls is SimAM:  # parameter-free: nothing of its own to train, but gradients pass through it
            assert not any(n.startswith(prefix) for n in before)
            continue
        # At imgsz 64 the P5 map is 2x2, its keys pooled by 2 to a single one: a softmax over one key is 1 whatever
        # the queries and keys, so they get no gradient there (a property of the input size, not a lost gradient).
        single_key = ("attention.q.", "attention.k.") if cls is GLSA and i == attention[-1] else ()
        attention_grads = {n: g for n, g in grads.items() if n.startswith(prefix)}
        assert attention_grads, i
        for n, g in attention_grads.items():
            assert (g.abs().sum() > 0) != n.startswith(tuple(prefix + part for part in single_key)), n
        assert changed(model, before, prefix), i
    assert changed(model, before, "model.0.")  # the gradient reached the stem through every attention layer


@pytest.mark.parametrize("scale", ["n", "s"])
@pytest.mark.parametrize("key", list(GLSA_ARGS))
def test_glsa_strategies_written_in_a_yaml_build_and_train(key, scale, tmp_path):
    model = YOLO(glsa_yaml(tmp_path, key, scale), verbose=False)
    glsa = model.model.model[7]
    expected = {
        "gp": (8, "CBAM", "learnable_gate", "progressive", 2),
        "bam": (4, "BAM", "cross_attn", "drop_path", 2),
        "scse": (8, "scSE", "channel_attn", "learnable_gate", 2),
        "wa": (8, "CBAM", "weighted_add", "original", 1),
        "sa": (2, "scSE", "spatial_attn", "drop_path", 2),
    }[key]
    assert (glsa.heads, glsa.local_name, glsa.fusion_name, glsa.residual_name, glsa.kv_stride) == expected
    if key == "sa":
        assert glsa.drop_prob == 0.3
    before, grads = train_one_step(model)
    own = [n for n in before if n.startswith("model.7.")]
    if key == "gp":  # progressive: an identity at step 0, so only its alpha learns on the first step
        assert grads["model.7.residual.alpha"].abs() > 0 and changed(model, before, "model.7.residual.alpha")
    else:
        assert all(grads[n].abs().sum() > 0 for n in own) and changed(model, before, "model.7.") == own
    assert changed(model, before, "model.0.")


@pytest.mark.parametrize(
    "module,message",
    [
        ("BAM", "BAM: reduction must be an int from 1 to 255 (a ratio below the 256 input channels; channels are "
         "inferred, not written), got 1024"),
        ("scSE", "scSE: reduction must be an int from 1 to 255 (a ratio below the 256 input channels; channels are "
         "inferred, not written), got 1024"),
        ("SimAM", "SimAM: e_lambda must be a number in (0, 1) (the paper uses 1e-4), got 1024"),
        ("GLSA", "GLSA: heads must be an int from 1 to 256 (at most one head per input channel; channels are "
         "inferred, not written), got 1024"),
    ],
)  # fmt: skip
def test_a_channel_count_as_first_argument_is_refused(module, message, tmp_path):
    with pytest.raises(LayerBuildError) as info:
        YOLO(fork_style_yaml(tmp_path, module, [1024], "n"))
    assert str(info.value) == f"layer 10 ({module}, 256 input channels): {message} (YAML args: [1024])"


def test_a_misspelt_strategy_in_a_yaml_is_one_line(tmp_path):
    path = tmp_path / "yolov8n-glsa-typo.yaml"
    path.write_text((MODEL_CFG_DIR / "yolov8-glsa.yaml").read_text().replace("GLSA, []", "GLSA, [8, CBAM, orignal]"))
    with pytest.raises(LayerBuildError) as info:
        YOLO(str(path))
    assert str(info.value).startswith("layer 7 (GLSA, 128 input channels): GLSA: unknown fusion 'orignal'. Valid: ")
    assert "Did you mean 'original'?" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("kind", list(NEW))
def test_transfer_from_the_baseline_is_an_exact_identity(kind):
    """With the default attn_init="identity" each new layer gets a zero residual gate: the baseline's outputs, bit
    for bit; and the layers count as attention for the correspondence and for freezing."""
    torch.manual_seed(0)
    baseline = YOLO("yolov8n.yaml", verbose=False)
    model = YOLO(f"yolov8n-{kind}.yaml", verbose=False)
    report = transfer_weights(model, baseline, verbose=False)
    attention = NEW[kind][1]
    assert report.transferred == report.total and report.new_attention > 0 and report.attn_init == "identity"
    assert layer_map(model).attention == attention
    assert all(model.model.model[i].residual_gate.item() == 0 for i in attention)
    assert not set(freeze_indices(model, "backbone")) & set(attention)
    assert set(attention) <= set(range(len(model.model.model))) - set(freeze_indices(model, "all-but-attention"))
    images = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    baseline.model.eval()
    model.model.eval()
    with torch.no_grad():
        assert torch.equal(model.model(images)[0], baseline.model(images)[0])


def test_modules_command_lists_the_new_modules_with_parameters():
    result = CliRunner().invoke(cli, ["modules", "--channels", "64"], catch_exceptions=False)
    rows = {line.split()[0]: line.split() for line in result.output.splitlines()[1:]}
    for name, cls in (("BAM", BAM), ("scSE", scSE), ("SimAM", SimAM), ("GLSA", GLSA)):
        assert int(rows[name][1].replace(",", "")) == sum(p.numel() for p in cls(64).parameters())
    assert rows["SimAM"][1] == "0" and "arXiv:1807.06514" in " ".join(rows["BAM"])


LOAD_SCRIPT = """
import sys, torch
import yolo_attention
from ultralytics import YOLO
layer = YOLO(sys.argv[1]).model.model[7]
print(layer.local_name, layer.fusion_name, layer.residual_name, float(layer.residual.alpha))
"""


@pytest.mark.parametrize("safe_load", ["0", "1"])
def test_a_glsa_checkpoint_loads_in_a_fresh_process(tmp_path, safe_load):
    """The strategy and attention classes are pickled in checkpoints; weights-only loading allows them."""
    model = YOLO(glsa_yaml(tmp_path, "gp", "n"), verbose=False)
    with torch.no_grad():
        model.model.model[7].residual.alpha.fill_(0.5)
    model.save(tmp_path / "glsa.pt")
    env = {**os.environ, "ULTRALYTICS_SAFE_LOAD": safe_load}
    out = subprocess.run(
        [sys.executable, "-c", LOAD_SCRIPT, str(tmp_path / "glsa.pt")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split()[-4:] == ["CBAM", "learnable_gate", "progressive", "0.5"]
