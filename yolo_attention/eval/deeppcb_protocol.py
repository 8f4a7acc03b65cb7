"""Deprecated: use ``yolo_attention.eval.deeppcb`` (same names); this alias goes in a later release."""

import warnings

from yolo_attention.eval.deeppcb import *  # noqa: F403
from yolo_attention.eval.deeppcb import __all__  # noqa: F401

warnings.warn("yolo_attention.eval.deeppcb_protocol: use yolo_attention.eval.deeppcb", DeprecationWarning, stacklevel=2)
