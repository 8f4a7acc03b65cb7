"""OpenVINO INT8 through NNCF post-training quantisation, with the attention gates kept in floating point.

An attention gate multiplies a feature map by sigmoid weights in (0, 1). Quantised to INT8, the weights of a whole
layer share one scale, so small differences between channels or positions (the signal the gate carries) round away,
and the error is multiplied into every feature the layer passes on. This module keeps each gate — the Sigmoid or
HSigmoid op inside an attention layer and the elementwise ops it feeds — out of quantisation with an NNCF ignored
scope, and can quantise the same model without that protection to measure what it buys.

The elementwise ops fed include the identity-safe residual gate of a newly inserted layer, ``x + a * (attn(x) - x)``
(`AttentionModule.enable_residual_gate`), exported as Subtract -> Multiply -> Add. With ``a`` near 0, ``attn(x)`` and
``x`` nearly cancel: quantising both on their own 8-bit grids before the Subtract leaves rounding noise as large as the
difference the layer was inserted to learn, so that path is kept in floating point too.

The detection head's decoding (the ops after its last convolutions) is kept in floating point in both cases, as
Ultralytics' own INT8 export does, so the comparison isolates the attention gates.
"""

from __future__ import annotations

import contextlib
import logging
import random
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "GATED_TYPES",
    "GATE_TYPES",
    "Int8Report",
    "calibration_dataset",
    "calibration_files",
    "compare_gate_protection",
    "gate_nodes",
    "head_nodes",
    "quantize_openvino",
    "quiet_nncf",
]

GATE_TYPES = ("Sigmoid", "HSigmoid", "HardSigmoid")
"""OpenVINO op types of the gates (sigmoid and hard sigmoid) the attention modules use."""

GATED_TYPES = ("Multiply", "Subtract", "Add")
"""Elementwise op types that carry a gate's output on inside its layer: the products ``x * gate`` (chained in CoordAtt's
``x * a_w * a_h``) and the residual gate's ``x + a * (y - x)``."""

_LAYER = re.compile(r"^__module\.model\.(\d+)[./]")  # OpenVINO's name for ops traced inside layer i of the model


def _layer_of(name: str) -> int | None:
    match = _LAYER.match(name)
    return int(match.group(1)) if match else None


def gate_nodes(ov_model, attention_layers: Iterable[int]) -> list[str]:
    """Return the names of the gate ops of the attention layers and of the elementwise ops each gate feeds.

    From each gate, consumers of a `GATED_TYPES` type in the same layer are followed: the product ``x * sigmoid(...)``,
    a chain of products (CoordAtt's ``x * a_w * a_h``, CBAM's channel then spatial gate) and the residual gate's
    Subtract -> Multiply -> Add. The walk stops at any other op (pooling, convolution) and at the layer's end.

    Args:
        ov_model (openvino.Model): A model converted from an Ultralytics model (op names ``__module.model.<i>...``).
        attention_layers (Iterable[int]): Indices of the attention layers.

    Returns:
        (list[str]): Op names, gates first.
    """
    layers = set(attention_layers)
    gates, products = [], []
    for op in ov_model.get_ordered_ops():
        if op.get_type_name() not in GATE_TYPES or _layer_of(op.get_friendly_name()) not in layers:
            continue
        layer = _layer_of(op.get_friendly_name())
        gates.append(op.get_friendly_name())
        pending = [op]
        while pending:
            node = pending.pop()
            for output in node.outputs():
                for target in output.get_target_inputs():
                    consumer = target.get_node()
                    name = consumer.get_friendly_name()
                    if consumer.get_type_name() in GATED_TYPES and _layer_of(name) == layer and name not in products:
                        products.append(name)
                        pending.append(consumer)
    return gates + products


def head_nodes(ov_model, head_index: int) -> list[str]:
    """Return the names of the detection head's decoding ops (``__module.model.<head>/...`` and its DFL).

    The head's convolutions (``__module.model.<head>.cv2...``) are not among them: they are quantised.
    """
    prefixes = (f"__module.model.{head_index}/", f"__module.model.{head_index}.dfl")
    return [op.get_friendly_name() for op in ov_model.get_ordered_ops() if op.get_friendly_name().startswith(prefixes)]


@contextlib.contextmanager
def quiet_nncf():
    """Lower NNCF's logger to warnings while quantising (it logs one INFO line per op it leaves unquantised)."""
    logger = logging.getLogger("nncf")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def calibration_files(data: str | Path, split: str = "train", n: int = 300, seed: int = 0) -> list[Path]:
    """Return the up to `n` image files drawn (fixed seed) from a split of `data` that INT8 calibrates on."""
    from yolo_attention.export.images import image_files

    files = image_files(data, split)
    return sorted(random.Random(seed).sample(files, n)) if len(files) > n else files


def calibration_dataset(data: str | Path, imgsz: int = 640, split: str = "train", n: int = 300, seed: int = 0):
    """Return an `nncf.Dataset` of the letterboxed `calibration_files`.

    Calibrating on the training split keeps the validation images unseen by the quantiser.
    """
    import nncf

    from yolo_attention.export.images import letterbox_image

    files = calibration_files(data, split, n, seed)
    return nncf.Dataset(files, lambda path: letterbox_image(path, imgsz)[None])


def _read_model(folder: Path):
    import openvino as ov

    from yolo_attention.export.runtimes.openvino import openvino_xml

    xml = openvino_xml(folder)
    return ov.Core().read_model(str(xml)), xml


def quantize_openvino(
    fp32_model: str | Path,
    data: str | Path,
    attention_layers: Iterable[int],
    head_index: int,
    imgsz: int = 640,
    out_dir: str | Path | None = None,
    protect_gates: bool = True,
    subset_size: int = 300,
    split: str = "train",
    *,
    float_layers: Iterable[int] = (),
    calibration_seed: int = 0,
    advanced_parameters=None,
    quantize_options: dict | None = None,
) -> Path:
    """Quantise an FP32 OpenVINO export to INT8 with NNCF, calibrated on the dataset's images.

    Args:
        fp32_model (str | Path): The ``*_openvino_model`` folder (or its .xml) Ultralytics exported.
        data (str | Path): Dataset YAML to calibrate on.
        attention_layers (Iterable[int]): Indices of the attention layers (`yolo_attention.attention_layer_indices`).
        head_index (int): Index of the detection head (the last layer).
        imgsz (int): Export size.
        out_dir (str | Path, optional): Output folder; defaults to ``<stem>_int8_openvino_model`` next to the FP32
            folder. Its name must end in ``_openvino_model`` for Ultralytics to load it.
        protect_gates (bool): Keep the attention gates and the elementwise ops they feed (products, residual gate)
            in floating point.
        subset_size (int): Number of calibration images (at most).
        split (str): Dataset split to calibrate on.
        float_layers (Iterable[int]): Layers kept wholly in floating point (every op traced inside them), for
            measuring where INT8 loses accuracy.
        calibration_seed (int): Seed of the draw of calibration images.
        advanced_parameters (nncf.AdvancedQuantizationParameters, optional): NNCF's advanced settings (range
            estimators, overflow fix, ...); NNCF's defaults when None.
        quantize_options (dict, optional): Other keyword arguments of ``nncf.quantize`` (``fast_bias_correction``,
            ``target_device``, ``preset``), over the recipe's.

    Returns:
        (Path): The INT8 model folder, with the .xml/.bin pair and Ultralytics' metadata.yaml.

    Raises:
        ValueError: If the model has attention layers but no gate op is found in them (op names not as expected).
    """
    import nncf
    import openvino as ov
    import yaml

    ov_model, xml = _read_model(Path(fp32_model))
    attention_layers = list(attention_layers)
    ignored = head_nodes(ov_model, head_index)
    if protect_gates and attention_layers:
        gates = gate_nodes(ov_model, attention_layers)
        if not gates:
            raise ValueError(
                f"no {'/'.join(GATE_TYPES)} op found in attention layers {attention_layers} of '{xml}'; "
                "was it exported from this model by Ultralytics?"
            )
        ignored += gates
    whole = set(float_layers)
    if whole:
        ignored += [
            op.get_friendly_name() for op in ov_model.get_ordered_ops() if _layer_of(op.get_friendly_name()) in whole
        ]
        ignored = list(dict.fromkeys(ignored))
    dataset = calibration_dataset(data, imgsz, split, subset_size, seed=calibration_seed)
    with quiet_nncf():
        options = {
            "preset": nncf.QuantizationPreset.MIXED,
            "subset_size": min(subset_size, dataset.get_length() or subset_size),
            "ignored_scope": nncf.IgnoredScope(names=ignored) if ignored else None,
            "advanced_parameters": advanced_parameters,
            **(quantize_options or {}),
        }
        quantized = nncf.quantize(ov_model, dataset, **options)
    src_dir = xml.parent
    stem = src_dir.name.removesuffix("_openvino_model") if src_dir.name.endswith("_openvino_model") else xml.stem
    out = Path(out_dir) if out_dir else src_dir.parent / f"{stem}_int8_openvino_model"
    out.mkdir(parents=True, exist_ok=True)
    ov.save_model(quantized, str(out / xml.name), compress_to_fp16=False)
    meta_file = src_dir / "metadata.yaml"
    if meta_file.is_file():
        meta = yaml.safe_load(meta_file.read_text()) or {}
        meta.setdefault("args", {})["quantize"] = 8
        meta["args"]["data"] = str(data)
        meta["int8_gates"] = "float" if protect_gates else "int8"
        (out / "metadata.yaml").write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True))
    return out


@dataclass
class Int8Report:
    """mAP of an FP32 OpenVINO export and of its INT8 versions with and without gate protection.

    Attributes:
        fp32_map50 (float): FP32 mAP50 (0..1).
        protected_map50 (float): INT8 mAP50 with the attention gates in floating point.
        unprotected_map50 (float): INT8 mAP50 with the gates quantised too.
        fp32_map50_95 (float): FP32 mAP50-95.
        protected_map50_95 (float): INT8 (protected) mAP50-95.
        unprotected_map50_95 (float): INT8 (unprotected) mAP50-95.
        protected (Path): The protected INT8 model folder.
        gates (int): Number of ops kept in floating point for the gates.
    """

    fp32_map50: float
    protected_map50: float
    unprotected_map50: float
    fp32_map50_95: float
    protected_map50_95: float
    unprotected_map50_95: float
    protected: Path
    gates: int

    def table(self) -> str:
        """Return the three rows as text, drops in mAP50 points against FP32."""
        rows = [
            ("FP32", self.fp32_map50, self.fp32_map50_95),
            ("INT8, gates in float", self.protected_map50, self.protected_map50_95),
            ("INT8, gates quantised", self.unprotected_map50, self.unprotected_map50_95),
        ]
        lines = [f"{'OpenVINO':<24}{'mAP50':>8}{'mAP50-95':>10}{'drop mAP50 (pts)':>18}"]
        for name, m50, m in rows:
            lines.append(f"{name:<24}{100 * m50:>8.2f}{100 * m:>10.2f}{100 * (self.fp32_map50 - m50):>18.2f}")
        return "\n".join(lines)


def compare_gate_protection(
    model,
    fp32_model: str | Path,
    data: str | Path,
    imgsz: int = 640,
    out_dir: str | Path | None = None,
    subset_size: int = 300,
) -> Int8Report:
    """Quantise an FP32 OpenVINO export with and without gate protection and validate all three on `data`.

    The protected model is kept (in `out_dir` or next to the FP32 folder); the unprotected one is deleted after its
    validation.

    Args:
        model: The PyTorch source (`YOLO`), for the attention layer indices.
        fp32_model (str | Path): Its FP32 ``*_openvino_model`` folder.
        data (str | Path): Dataset YAML: calibrated on its train split, validated on its val split.
        imgsz (int): Export size.
        out_dir (str | Path, optional): Folder of the protected INT8 model.
        subset_size (int): Number of calibration images.

    Returns:
        (Int8Report): mAPs of the three models.
    """
    from yolo_attention.common.models import layers_of
    from yolo_attention.export.validation import validate_map
    from yolo_attention.integration import attention_layer_indices

    attention = attention_layer_indices(model)
    head = len(layers_of(model)) - 1
    fp32 = validate_map(fp32_model, data, imgsz)
    protected = quantize_openvino(fp32_model, data, attention, head, imgsz, out_dir, True, subset_size)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "unprotected_int8_openvino_model"
        quantize_openvino(fp32_model, data, attention, head, imgsz, folder, False, subset_size)
        unprotected = validate_map(folder, data, imgsz)
        shutil.rmtree(folder, ignore_errors=True)
    protected_map = validate_map(protected, data, imgsz)
    ov_model, _ = _read_model(Path(fp32_model))
    gates = len(gate_nodes(ov_model, attention))
    return Int8Report(
        fp32[0], protected_map[0], unprotected[0], fp32[1], protected_map[1], unprotected[1], protected, gates
    )
