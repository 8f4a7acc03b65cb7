"""Attention modules for YOLO models; imports only torch, so `import yolo_attention.modules` stays light."""

from __future__ import annotations

from .bam import BAM
from .base import AttentionModule
from .cbam import CBAM, ChannelAttention
from .coord_att import CoordAtt
from .eca import ECA
from .eca_sam import ECASAM
from .gates import GATES, make_gate
from .glsa import GLSA, LOCALS, register_local
from .glsa_strategies import FUSIONS, RESIDUALS, register_fusion, register_residual
from .multi_head_attention import MultiHeadAttention
from .registry import (
    ENTRY_POINT_GROUP,
    MODULES,
    add_register_listener,
    get_module,
    is_attention,
    load_entry_points,
    register_module,
    remove_register_listener,
)
from .sam import SAM
from .scse import scSE
from .se import SE
from .simam import SimAM
from .suggest import did_you_mean
from .switches import set_attention

__all__ = [
    "BAM",
    "CBAM",
    "ECA",
    "ECASAM",
    "ENTRY_POINT_GROUP",
    "FUSIONS",
    "GATES",
    "GLSA",
    "LOCALS",
    "MODULES",
    "RESIDUALS",
    "SAM",
    "SE",
    "AttentionModule",
    "ChannelAttention",
    "CoordAtt",
    "MultiHeadAttention",
    "SimAM",
    "add_register_listener",
    "did_you_mean",
    "get_module",
    "is_attention",
    "load_entry_points",
    "make_gate",
    "register_fusion",
    "register_local",
    "register_module",
    "register_residual",
    "remove_register_listener",
    "scSE",
    "set_attention",
]
