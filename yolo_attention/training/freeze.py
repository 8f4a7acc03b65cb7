"""Freezing by layer role (`backbone` never includes attention layers) and frozen weights that stay bit-identical.

Ultralytics freezes by layer index (`freeze=10` or `freeze=[0, 1, 2]`). With attention layers inserted in the
backbone, `freeze=10` freezes them too, so the warm-up stage would train nothing new there; `freeze_indices(model,
"backbone")` returns the original backbone layers only.

Frozen parameters do not move in the trained model, but checkpoints hold the EMA copy. Ultralytics releases before
8.4 blended every float tensor as `d*v + (1-d)*x`, which rounds, so frozen values drifted by an ulp; 8.4's
`torch._foreach_lerp_` leaves a tensor whose EMA equals the model's exact (a canary in tests/integration guards it).
`ema_moves_frozen()` probes the installed `ModelEMA` once; only where it rounds are the `keep_frozen_exact` callbacks
(copy frozen tensors from the model into the EMA after every batch) added to a phase.
"""

from __future__ import annotations

import functools

import torch

from yolo_attention.arch.correspondence import layer_map, layers_of
from yolo_attention.common.models import unwrap_parallel

__all__ = ["ema_moves_frozen", "freeze_indices", "keep_frozen_exact", "frozen_state_names"]


def freeze_indices(model, spec) -> list[int]:
    """Return the layer indices to freeze for a freeze spec, as a list Ultralytics' `freeze=` accepts.

    Args:
        model: The model being trained (`YOLO` or task model).
        spec: ``"backbone"`` (every original backbone layer, never an attention layer), ``"all-but-attention"``
            (every layer except the attention layers and the ones inside them), ``"none"``/None/False
            (nothing), an int N (layers 0..N-1, as in Ultralytics) or a list of layer indices.

    Returns:
        (list[int]): Layer indices.

    Examples:
        >>> import yolo_attention
        >>> from ultralytics import YOLO
        >>> freeze_indices(YOLO("yolov8n-cbam.yaml"), "backbone")
        [0, 1, 2, 3, 4, 6, 7, 9, 10, 11]
    """
    n = len(layers_of(model))
    if spec is None or spec is False or (isinstance(spec, str) and spec.lower() == "none"):
        return []
    if isinstance(spec, str) and spec.lower() == "backbone":
        return layer_map(model).backbone
    if isinstance(spec, str) and spec.lower() == "all-but-attention":
        attention = set(layer_map(model).attention)
        return [i for i in range(n) if i not in attention]
    if isinstance(spec, bool) or not isinstance(spec, (int, list, tuple)):
        raise ValueError(
            f"freeze must be 'backbone', 'all-but-attention', 'none', an int or a list of layer indices, got {spec!r}"
        )
    if isinstance(spec, int):
        if not 0 <= spec <= n:
            raise ValueError(f"freeze={spec} freezes the first {spec} layers, but the model has {n} (0..{n})")
        return list(range(spec))
    indices = list(spec)
    bad = [i for i in indices if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n]
    if bad:
        raise ValueError(f"freeze index out of range for a {n}-layer model (0..{n - 1}): {bad}")
    return indices


def frozen_state_names(model: torch.nn.Module) -> list[str]:
    """Return the state-dict keys that training must not change: frozen parameters and their layers' buffers."""
    model = unwrap_parallel(model)
    frozen = [name for name, p in model.named_parameters() if not p.requires_grad]
    prefixes = set()
    for name, module in model.named_modules():
        params = list(module.parameters(recurse=False))
        if params and not any(p.requires_grad for p in params):
            prefixes.add(f"{name}.")
    buffers = [name for name, b in model.named_buffers() if any(name.startswith(p) for p in prefixes)]
    return frozen + buffers


def _sync(trainer) -> None:
    names = getattr(trainer, "_yolo_attention_frozen", None)
    ema = getattr(trainer, "ema", None)
    if not names or ema is None:
        return
    source, target = unwrap_parallel(trainer.model).state_dict(), ema.ema.state_dict()
    with torch.no_grad():
        for name in names:
            target[name].copy_(source[name])


def _record(trainer) -> None:
    trainer._yolo_attention_frozen = frozen_state_names(trainer.model)
    _sync(trainer)


def keep_frozen_exact() -> dict:
    """Return the callbacks (event -> function) that keep frozen tensors bit-identical in the EMA and checkpoints.

    Examples:
        >>> sorted(keep_frozen_exact())
        ['on_train_batch_end', 'on_train_epoch_end', 'on_train_start']
    """
    return {"on_train_start": _record, "on_train_batch_end": _sync, "on_train_epoch_end": _sync}


@functools.lru_cache(maxsize=1)
def ema_moves_frozen() -> bool:
    """Whether the installed Ultralytics `ModelEMA.update` changes a tensor that the model never changed (it rounds).

    Examples:
        >>> ema_moves_frozen()  # Ultralytics 8.4.190
        False
    """
    from ultralytics.utils.torch_utils import ModelEMA

    generator = torch.Generator().manual_seed(0)
    model = torch.nn.Linear(64, 64)
    with torch.no_grad():
        model.weight.copy_(torch.randn(64, 64, generator=generator))
    ema = ModelEMA(model)
    before = ema.ema.weight.detach().clone()
    for _ in range(3):
        ema.update(model)
    return not torch.equal(ema.ema.weight, before)
