"""Load pretrained weights into a model with attention layers by layer correspondence, not by state-dict key.

Inserting a layer shifts every later `model.{i}` key, so Ultralytics' key matching silently skips most of a
pretrained YOLOv8 (Ultralytics issue #1406). Here the source's layers are placed at the indices of their
corresponding destination layers first, and then Ultralytics' own loader runs, so everything it does (class-name
remapping, a rebuilt classification branch for another class count) still applies. What a transfer did, tensor by
tensor, is counted in `transfer_report.py` (`TransferReport` is re-exported here).
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
from collections.abc import Callable
from pathlib import Path

import torch
from ultralytics.utils import LOGGER

from yolo_attention.arch.correspondence import correspond, layer_map
from yolo_attention.arch.transfer_report import (
    TransferReport,
    corresponded_report,
    key_matching_report,
    same_architecture_report,
)
from yolo_attention.common.models import layers_of, task_model
from yolo_attention.modules import AttentionModule
from yolo_attention.modules.base import ATTN_INITS

__all__ = ["ATTN_INITS", "TransferReport", "transfer_weights", "transfer_options", "load_into"]

_OPTIONS: contextvars.ContextVar[dict | None] = contextvars.ContextVar("yolo_attention_transfer_options", default=None)
_LAST_REPORT: contextvars.ContextVar[TransferReport | None] = contextvars.ContextVar("yolo_attention_transfer_report")


@contextlib.contextmanager
def transfer_options(attn_init: str | None = None, verbose: bool = True):
    """Set how weight transfers inside the block initialise new attention layers (e.g. around `model.train`).

    Examples:
        >>> with transfer_options(attn_init="paper"):
        ...     pass  # model.train(data=..., pretrained="yolov8n.pt") starts new attention layers as in the papers
    """
    if attn_init is not None:
        resolve_attn_init({}, attn_init)
    token = _OPTIONS.set({"attn_init": attn_init, "verbose": verbose})
    try:
        yield
    finally:
        _OPTIONS.reset(token)


def _source_model(weights) -> torch.nn.Module:
    if isinstance(weights, dict):
        return weights.get("ema") or weights["model"]
    return weights


def _describe(weights, model) -> str:
    path = getattr(model, "pt_path", None) or (weights.get("pt_path") if isinstance(weights, dict) else None)
    return Path(path).name if path else "pretrained weights"


def resolve_attn_init(model, attn_init: str | None) -> str:
    """Return the initialisation of new attention layers: explicit, else the model YAML's `attn_init`, else identity."""
    value = attn_init or getattr(model, "yaml", {}).get("attn_init") or "identity"
    if value not in ATTN_INITS:
        raise ValueError(f"attn_init must be one of {', '.join(ATTN_INITS)}, got {value!r}")
    return value


def _placed(source: torch.nn.Module, mapping: dict[int, int], n_layers: int) -> torch.nn.Module:
    """A copy of `source` whose layer i sits at index mapping[i]; the other indices hold parameter-free Identities."""
    placed = copy.deepcopy(source)
    src_layers = layers_of(placed)
    slots = [torch.nn.Identity() for _ in range(n_layers)]
    for d, s in mapping.items():
        slots[d] = src_layers[s]
    layers_owner = placed
    while not isinstance(layers_owner.model, torch.nn.Sequential):
        layers_owner = layers_owner.model
    layers_owner.model = torch.nn.Sequential(*slots)
    return placed


def _gated(layer: torch.nn.Module) -> bool:
    return any(getattr(m, "residual_gate", None) is not None for m in layer.modules())


def _attention_modules(layer: torch.nn.Module) -> list[AttentionModule]:
    """The outermost attention modules of a layer (the layer itself, or each block of a repeated layer)."""
    return [layer] if isinstance(layer, AttentionModule) else [m for m in layer if isinstance(m, AttentionModule)]


def transfer_weights(model, weights, attn_init: str | None = None, verbose: bool = True) -> TransferReport:
    """Load `weights` into `model` by layer correspondence, falling back to Ultralytics' key matching.

    Args:
        model: Destination (`YOLO` or `DetectionModel`/`PoseModel`), usually with attention layers.
        weights: Source: a path to a .pt checkpoint, a checkpoint dict, a `YOLO` or an Ultralytics model.
        attn_init (str, optional): "identity" starts each new attention layer as an exact identity with a zero
            residual gate (the transferred model predicts exactly as the source); "paper" keeps the paper's
            initialisation. Defaults to the model YAML's `attn_init` key, else "identity".
        verbose (bool): Log the one-line summary.

    Returns:
        (TransferReport): What was transferred.

    Raises:
        ValueError: If `model` is a path, not a model (the weights would land in a model nobody holds).

    Examples:
        >>> import yolo_attention
        >>> from ultralytics import YOLO
        >>> base = YOLO("yolov8n.yaml")
        >>> report = transfer_weights(YOLO("yolov8n-cbam.yaml"), base, verbose=False)
        >>> report.transferred == report.total, report.new_attention
        (True, 18)
    """
    if isinstance(model, (str, Path)):
        raise ValueError(
            f"transfer_weights loads into a model, got the path {str(model)!r}; build the model first and keep it: "
            f"transfer_weights(YOLO({str(model)!r}), weights)"
        )
    if not callable(getattr(model, "load", None)):
        raise ValueError(f"transfer_weights loads into a YOLO or an Ultralytics model, got {model!r}")
    # Through `.load` (a YOLO's, or the task model's BaseModel.load, which the plugin wraps): a later YOLO.train()
    # then starts from these weights, and the one loading path is the one Ultralytics' trainer takes too.
    with transfer_options(attn_init, verbose):
        model.load(str(weights) if isinstance(weights, Path) else weights)
    return _LAST_REPORT.get()


def load_into(
    model, weights, key_loader: Callable, attn_init: str | None = None, verbose: bool = True
) -> TransferReport:
    """Load `weights` into an Ultralytics task model; what `BaseModel.load` does once the plugin is imported.

    Args:
        model: Destination task model (or `YOLO`).
        weights: Source checkpoint dict, `YOLO` or task model (the integration reads files before calling this).
        key_loader (Callable): Ultralytics' own key-and-shape loader, ``key_loader(dst, src, verbose=...)``, passed
            in by the integration so that this layer never reaches into Ultralytics' internals.
        attn_init (str, optional): See `transfer_weights`.
        verbose (bool): Log the one-line summary.
    """
    original_load = key_loader
    options = _OPTIONS.get() or {}
    attn_init = attn_init or options.get("attn_init")
    verbose = verbose and options.get("verbose", True)
    dst = task_model(model)
    if isinstance(weights, (str, Path)):
        raise TypeError("load_into takes a loaded checkpoint; read files with the integration's read_checkpoint")
    source = task_model(_source_model(weights))
    name = _describe(weights, source)
    attn_init = resolve_attn_init(dst, attn_init)
    dst_layers = layers_of(dst)
    mapped = correspond(source, dst)
    if mapped is not None and not (mapped.attention or layer_map(source).attention or mapped.heads_differ):
        original_load(dst, source, verbose=verbose)  # no attention on either side: Ultralytics' behaviour and log
        return _remember(same_architecture_report(name, source, dst))
    if mapped is None:
        original_load(dst, source, verbose=False)
        report = key_matching_report(name, source, dst)
    else:
        mapping = mapped.to_source()
        new_attention = [i for i in mapped.attention if i not in mapped.attention_source]
        for d, s in mapped.attention_source.items():  # a gated source layer needs the gate to land in
            if _gated(layers_of(source)[s]):
                for module in _attention_modules(dst_layers[d]):
                    module.enable_residual_gate()
        if attn_init == "identity":
            for d in new_attention:
                for module in _attention_modules(dst_layers[d]):
                    module.enable_residual_gate(0.0)
        placed = _placed(source, mapping, len(dst_layers))
        original_load(dst, placed, verbose=False)
        if new_attention or any(d != s for d, s in mapping.items()):
            # Ultralytics' load hands the model the source checkpoint's path (pt_path), beside which export() writes:
            # this is another architecture, so its exports are named after its own YAML and written where any
            # YAML-built model's are (the working directory), not over the baseline's export nor into the package
            # folder of the shipped weights
            dst.pt_path = None
        report = corresponded_report(
            name, source, dst, placed, mapping, new_attention, attn_init, bool(mapped.attention_source),
            same_heads=not mapped.heads_differ,
        )  # fmt: skip
    if verbose:
        LOGGER.info(report.message())
    return _remember(report)


def _remember(report: TransferReport) -> TransferReport:
    _LAST_REPORT.set(report)
    return report
