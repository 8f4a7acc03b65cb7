"""Put the plugin's helper module classes on torch's weights-only allow-list, so checkpoints holding them load."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["allow_weights_only"]


def allow_weights_only(cls: type[nn.Module]) -> type[nn.Module]:
    """Let `torch.load(weights_only=True)` (and Ultralytics' `ULTRALYTICS_SAFE_LOAD=1`) rebuild instances of `cls`.

    The integration allow-lists every `AttentionModule`; parts of a module that are plain `nn.Module`s of the plugin
    (GLSA's attention, fusion and residual strategies) are pickled into checkpoints too and are added here, when they
    are defined or registered.

    Args:
        cls (type[nn.Module]): The class to allow.

    Returns:
        (type[nn.Module]): `cls`, so this can be used as a decorator.
    """
    torch.serialization.add_safe_globals([cls])
    return cls
