"""Model YAML arguments written by habit as channel counts (`[-1, 1, SE, [1024]]`) are refused, not built silently.

Forks write an attention layer's channel count as its first argument. Here channels are inferred, and the first
argument is the module's own hyper-parameter (a reduction ratio or a kernel size), so `SE [1024]` used to build an
SE with reduction 1024 (one hidden channel) and `CoordAtt [1024]` one with the minimum width, without a word.
"""

from __future__ import annotations

import pytest
import yaml
from ultralytics import YOLO
from ultralytics.utils import ROOT

from yolo_attention.arch.yaml_edit import insert_attention
from yolo_attention.integration import LayerBuildError
from yolo_attention.modules import CBAM, ECA, ECASAM, SAM, SE, CoordAtt

BASE = yaml.safe_load((ROOT / "cfg" / "models" / "v8" / "yolov8.yaml").read_text())
SPPF_CHANNELS = {"n": 256, "s": 512}  # the SPPF's nominal 1024 channels after each scale's width and cap

HABIT = {  # what each module says about [1024] after the SPPF
    "CBAM": "CBAM: kernel_size must be a positive odd int (e.g. 3 or 7), got 1024",
    "ECA": "ECA: kernel_size must be a positive odd int (e.g. 3 or 7), got 1024",
    "ECASAM": "ECASAM: eca_kernel_size must be a positive odd int (e.g. 3 or 7), got 1024",
    "SAM": "SAM: kernel_size must be a positive odd int (e.g. 3 or 7), got 1024",
    "SE": "SE: reduction must be an int from 1 to {upper} (a ratio below the {c1} input channels; channels are "
    "inferred, not written), got 1024",
    "CoordAtt": "CoordAtt: reduction must be an int from 1 to {upper} (a ratio below the {c1} input channels; channels "
    "are inferred, not written), got 1024",
}


def fork_style_yaml(tmp_path, module: str, args: list, scale: str) -> str:
    """Write Ultralytics' yolov8 with `module` after the SPPF (layer 9 -> the attention is layer 10) given `args`."""
    cfg = insert_attention(BASE, module, after=[9], args=args)
    cfg["scale"] = scale
    path = tmp_path / f"yolov8{scale}-{module.lower()}-fork.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return str(path)


@pytest.mark.parametrize("scale", ["n", "s"])
@pytest.mark.parametrize("module", list(HABIT))
def test_a_channel_count_as_first_argument_is_refused(module, scale, tmp_path):
    c1 = SPPF_CHANNELS[scale]
    with pytest.raises(LayerBuildError) as info:
        YOLO(fork_style_yaml(tmp_path, module, [1024], scale))
    expected = HABIT[module].format(upper=c1 - 1, c1=c1)
    assert str(info.value) == f"layer 10 ({module}, {c1} input channels): {expected} (YAML args: [1024])"
    assert isinstance(info.value, ValueError)  # what the integration raises is still a ValueError


@pytest.mark.parametrize(
    "module,args,check",
    [
        ("CBAM", [3, 8], lambda m: (m.kernel_size, m.reduction) == (3, 8)),
        ("ECA", [5], lambda m: m.kernel_size == 5),
        ("ECASAM", [3, 5], lambda m: (m.eca.kernel_size, m.sam.kernel_size) == (3, 5)),
        ("SAM", [31], lambda m: m.kernel_size == 31),
        ("SE", [4], lambda m: m.reduction == 4 and m.fc1.out_channels == 64),
        ("SE", [255], lambda m: m.fc1.out_channels == 1),  # below the channels: a (narrow) ratio, accepted
        ("CoordAtt", [16], lambda m: m.reduction == 16 and m.conv1.out_channels == 16),
        ("CoordAtt", [], lambda m: m.reduction == 32),
    ],
)
def test_valid_first_arguments_still_build(module, args, check, tmp_path):
    model = YOLO(fork_style_yaml(tmp_path, module, args, "n"))
    layer = model.model.model[10]
    assert type(layer).__name__ == module and layer.c1 == 256
    assert check(layer)


@pytest.mark.parametrize("cls", [SE, CoordAtt, CBAM])
def test_the_default_reduction_builds_on_layers_narrower_than_it(cls):
    """The default ratio is accepted on every layer (the hidden width is floored), and so is anything as small."""
    default = cls(64).reduction
    for c1 in (1, 8, default):
        assert cls(c1).reduction == default
        assert cls(c1, reduction=default).reduction == default
    with pytest.raises(ValueError, match=rf"reduction must be an int from 1 to {default}.*got {default + 1}$"):
        cls(8, reduction=default + 1)


@pytest.mark.parametrize(
    "build,expected",
    [
        (lambda: SE(64, reduction=64), "SE: reduction must be an int from 1 to 63"),
        (lambda: CoordAtt(512, reduction=512), "CoordAtt: reduction must be an int from 1 to 511"),
        (lambda: CBAM(64, reduction=128), "CBAM: reduction must be an int from 1 to 63"),
        (lambda: CBAM(64, kernel_size=33), "CBAM: kernel_size must be a positive odd int up to 31"),
        (lambda: SAM(64, kernel_size=1023), "SAM: kernel_size must be a positive odd int up to 31"),
        (lambda: ECA(64, kernel_size=129), "ECA: kernel_size must be a positive odd int up to 127 (2 * 64 - 1"),
        (lambda: ECASAM(3, eca_kernel_size=7), "ECASAM: eca_kernel_size must be a positive odd int up to 5"),
        (lambda: ECASAM(64, sam_kernel_size=33), "ECASAM: sam_kernel_size must be a positive odd int up to 31"),
    ],
)
def test_values_no_module_could_mean_are_refused_in_python_too(build, expected):
    with pytest.raises(ValueError) as info:
        build()
    assert str(info.value).startswith(expected)


def test_the_largest_sensible_values_still_build():
    assert SE(64, reduction=63).fc1.out_channels == 1
    assert ECA(64, kernel_size=127).conv.kernel_size == (127,)
    assert SAM(8, kernel_size=31).conv.kernel_size == (31, 31)
    assert CBAM(64, kernel_size=31, reduction=63).spatial.kernel_size == 31
