"""Attention modules for YOLO models; imports only torch, so `import yolo_attention.modules` stays light."""

from __future__ import annotations

from .base import AttentionModule
from .cbam import CBAM, ChannelAttention
from .coord_att import CoordAtt
from .eca import ECA
from .eca_sam import ECASAM
from .gates import GATES, make_gate
from .registry import (
    MODULES,
    add_register_listener,
    get_module,
    is_attention,
    register_module,
    remove_register_listener,
)
from .sam import SAM
from .se import SE
from .suggest import did_you_mean
from .switches import set_attention

__all__ = [
    "CBAM",
    "ECA",
    "ECASAM",
    "GATES",
    "MODULES",
    "SAM",
    "SE",
    "AttentionModule",
    "ChannelAttention",
    "CoordAtt",
    "add_register_listener",
    "did_you_mean",
    "get_module",
    "is_attention",
    "make_gate",
    "register_module",
    "remove_register_listener",
    "set_attention",
]
