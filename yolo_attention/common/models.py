"""Unwrapping models: a ``YOLO`` to its task model, a task model to its layers, a DDP/EMA wrapper to its module.

One copy of each, used everywhere; they duck-type Ultralytics' classes so this file never imports Ultralytics.
"""

from __future__ import annotations

import torch

__all__ = ["layers_of", "state_dict_key", "task_model", "unwrap_parallel"]


def task_model(model) -> torch.nn.Module:
    """The task model (``DetectionModel``, ``PoseModel``; the module with ``.yaml``) of a ``YOLO``, or ``model`` itself.

    Examples:
        >>> class Task(torch.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.model = torch.nn.Sequential()
        >>> class Wrapper:  # what ultralytics' YOLO looks like from here
        ...     model = Task()
        >>> type(task_model(Wrapper())).__name__, type(task_model(Task())).__name__
        ('Task', 'Task')
    """
    model = unwrap_parallel(model)
    # A task model holds its layers as `.model` (an nn.Sequential); a YOLO holds the task model as `.model` (and
    # forwards unknown attributes such as `.yaml` to it, so attributes cannot tell the two apart).
    inner = getattr(model, "model", None)
    while isinstance(inner, torch.nn.Module) and not isinstance(inner, torch.nn.Sequential):
        model = unwrap_parallel(inner)
        inner = getattr(model, "model", None)
    return model


def layers_of(model) -> torch.nn.Sequential:
    """The layer list (``nn.Sequential``) of a ``YOLO``, a task model, a DDP/EMA wrapper, or the list itself.

    Raises:
        ValueError: If ``model`` holds no layer list.

    Examples:
        >>> seq = torch.nn.Sequential(torch.nn.Identity())
        >>> layers_of(seq) is seq
        True
    """
    layers = unwrap_parallel(model)
    while not isinstance(layers, torch.nn.Sequential):
        if not hasattr(layers, "model"):
            raise ValueError(f"expected an Ultralytics model, got {type(model).__name__}")
        layers = layers.model
    return layers


def unwrap_parallel(model):
    """The module inside a ``DistributedDataParallel``/``DataParallel`` wrapper, or ``model`` itself.

    Examples:
        >>> m = torch.nn.Linear(1, 1)
        >>> unwrap_parallel(torch.nn.DataParallel(m)) is m, unwrap_parallel(m) is m
        (True, True)
    """
    if isinstance(model, (torch.nn.parallel.DistributedDataParallel, torch.nn.DataParallel)):
        return model.module
    return model


def state_dict_key(key: str) -> str:
    """A state-dict key as a plain task model names it: without DDP's ``module.`` or ``torch.compile``'s prefix.

    Examples:
        >>> state_dict_key("module.model.3.conv.weight"), state_dict_key("_orig_mod.model.0.bn.bias")
        ('model.3.conv.weight', 'model.0.bn.bias')
    """
    for prefix in ("module.", "_orig_mod."):
        while key.startswith(prefix):
            key = key[len(prefix) :]
    return key
