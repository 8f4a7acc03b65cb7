"""Name -> class registry of attention modules, so model YAMLs and third parties can refer to them by name.

Installed packages declare modules in the `yolo_attention.modules` entry-point group. They are registered when the
registry is first read, not at import: scanning every installed distribution's metadata costs about 10 ms, which
`import yolo_attention` does not need to pay.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from importlib import metadata

from torch import nn

from .suggest import did_you_mean

__all__ = [
    "ENTRY_POINT_GROUP",
    "MODULES",
    "add_register_listener",
    "get_module",
    "is_attention",
    "load_entry_points",
    "register_module",
    "remove_register_listener",
]

ENTRY_POINT_GROUP = "yolo_attention.modules"
LOGGER = logging.getLogger(__name__)
_ENTRY_POINTS = {"state": "pending"}  # pending -> loading (in the thread that holds the lock) -> loaded
_ENTRY_POINTS_LOCK = threading.RLock()


def load_entry_points() -> None:
    """Register the modules that installed packages declare in the `yolo_attention.modules` group, once.

    Reading `MODULES` calls it, and so do YAML parsing and checkpoint loading through Ultralytics. Call it yourself
    before a `torch.load(weights_only=True)` of your own that must rebuild such a module. Another thread waits until
    the modules are registered; a package that fails to load is reported as a warning (a broken third-party package
    must not break the plugin).
    """
    if _ENTRY_POINTS["state"] == "loaded":
        return
    with _ENTRY_POINTS_LOCK:
        if _ENTRY_POINTS["state"] != "pending":  # loaded meanwhile, or this thread is loading (an entry point's module
            return  # reading the registry)
        _ENTRY_POINTS["state"] = "loading"
        try:
            try:
                entries = list(metadata.entry_points(group=ENTRY_POINT_GROUP))
            except Exception as e:
                LOGGER.warning(f"yolo-attention: installed packages' entry points could not be read: {e}")
                entries = []
            for entry in entries:
                try:
                    obj = entry.load()
                    if isinstance(obj, type):
                        register_module(obj, name=entry.name)
                except Exception as e:
                    LOGGER.warning(
                        f"yolo-attention: entry point '{entry.name}' ({entry.value}) could not be loaded: {e}"
                    )
        finally:
            _ENTRY_POINTS["state"] = "loaded"


class _Registry(dict):
    """A dict whose reads first register the installed packages' entry-point modules (`load_entry_points`)."""

    def __getitem__(self, key):
        load_entry_points()
        return super().__getitem__(key)

    def __contains__(self, key) -> bool:
        load_entry_points()
        return super().__contains__(key)

    def __iter__(self):
        load_entry_points()
        return super().__iter__()

    def __len__(self) -> int:
        load_entry_points()
        return super().__len__()

    def __repr__(self) -> str:
        load_entry_points()
        return super().__repr__()

    def get(self, key, default=None):
        load_entry_points()
        return super().get(key, default)

    def keys(self):
        load_entry_points()
        return super().keys()

    def values(self):
        load_entry_points()
        return super().values()

    def items(self):
        load_entry_points()
        return super().items()

    def copy(self) -> dict:
        load_entry_points()
        return dict(super().items())


MODULES: dict[str, type[nn.Module]] = _Registry()
"""Registered modules by name, in registration order. Read it; add to it with `register_module`."""

_LISTENERS: list[Callable[[str, type[nn.Module]], None]] = []


def _is_redefinition(old: type, new: type) -> bool:
    """Tell whether `new` is `old` re-created by re-running its module (importlib.reload, notebook autoreload)."""
    return (old.__module__, old.__qualname__) == (new.__module__, new.__qualname__)


def register_module(
    cls: type[nn.Module] | None = None, *, name: str | None = None, overwrite: bool = False
) -> type[nn.Module] | Callable[[type[nn.Module]], type[nn.Module]]:
    """Register an `nn.Module` subclass under a name usable in model YAMLs.

    Works as a bare decorator (`@register_module`), as a decorator with options
    (`@register_module(name="MyAtt")`) and as a plain call (`register_module(MyAttention)`). Registering the
    same class under the same name again is a no-op, so importing a plugin twice is harmless.

    Args:
        cls (type[nn.Module] | None): The class to register; omit it to get a decorator.
        name (str | None): Registry name; defaults to the class name. Must be a Python identifier so that it can
            appear as a module name in a model YAML.
        overwrite (bool): Replace a different class already registered under `name`.

    Returns:
        (type[nn.Module] | Callable): The class itself (unchanged), or a decorator when `cls` is omitted.

    Raises:
        ValueError: If `cls` is not an `nn.Module` subclass, `name` is not an identifier, or `name` is taken by a
            different class and `overwrite` is False. An exception raised by a listener propagates, and the
            registration is undone.

    Examples:
        >>> from torch import nn
        >>> @register_module(name="DocIdentity")
        ... class Identity(nn.Identity):
        ...     pass
        >>> MODULES["DocIdentity"] is Identity
        True
        >>> register_module(Identity, name="DocIdentity") is Identity  # idempotent
        True
        >>> del MODULES["DocIdentity"]
    """

    def _register(module_cls: type[nn.Module]) -> type[nn.Module]:
        if not (isinstance(module_cls, type) and issubclass(module_cls, nn.Module)):
            hint = ""
            if isinstance(module_cls, str):
                hint = f" To choose a name, write register_module(name={module_cls!r})."
            raise ValueError(f"register_module expects a torch.nn.Module subclass, got {module_cls!r}.{hint}")
        key = module_cls.__name__ if name is None else name
        if not isinstance(key, str) or not key.isidentifier():
            raise ValueError(f"register_module name must be a Python identifier (e.g. 'MyAttention'), got {key!r}")
        existing = dict.get(MODULES, key)  # no entry-point discovery while registering
        if existing is module_cls:
            return module_cls
        if existing is not None and not overwrite and not _is_redefinition(existing, module_cls):
            raise ValueError(
                f"attention module name '{key}' is already registered to "
                f"{existing.__module__}.{existing.__qualname__}; cannot register "
                f"{module_cls.__module__}.{module_cls.__qualname__} under it. Pass another name=... or overwrite=True."
            )
        MODULES[key] = module_cls
        try:
            for listener in list(_LISTENERS):
                listener(key, module_cls)
        except Exception:
            # A listener (e.g. the host integration) rejected the name: leave the registry as it was.
            if existing is None:
                del MODULES[key]
            else:
                MODULES[key] = existing
            raise
        return module_cls

    if cls is None:
        return _register
    return _register(cls)


def add_register_listener(fn: Callable[[str, type[nn.Module]], None]) -> Callable[[str, type[nn.Module]], None]:
    """Call `fn(name, cls)` for every registered module now, and for every later registration.

    This is how a host framework (the Ultralytics integration) learns about modules registered by plugins after
    it was set up.

    Args:
        fn (Callable[[str, type[nn.Module]], None]): The listener.

    Returns:
        (Callable[[str, type[nn.Module]], None]): `fn`, so this can be used as a decorator.

    Examples:
        >>> seen = []
        >>> listener = add_register_listener(lambda name, cls: seen.append(name))
        >>> "CBAM" in seen
        True
        >>> remove_register_listener(listener)
    """
    if not callable(fn):
        raise ValueError(f"add_register_listener expects a callable fn(name, cls), got {fn!r}")
    if fn not in _LISTENERS:
        seen = dict(dict.items(MODULES))  # what is registered now (entry-point discovery adds later)
        for key, module_cls in seen.items():
            fn(key, module_cls)
        _LISTENERS.append(fn)  # only once it accepted every existing module
        for key, module_cls in list(dict.items(MODULES)):  # registered while it ran (a listener reading MODULES)
            if seen.get(key) is not module_cls:
                fn(key, module_cls)
    return fn


def remove_register_listener(fn: Callable[[str, type[nn.Module]], None]) -> None:
    """Stop calling a listener added with `add_register_listener`; unknown listeners are ignored.

    Args:
        fn (Callable[[str, type[nn.Module]], None]): The listener to remove.
    """
    if fn in _LISTENERS:
        _LISTENERS.remove(fn)


def get_module(name: str) -> type[nn.Module]:
    """Look up a registered module class by name: exact match first, then ignoring case.

    Args:
        name (str): Registry name, e.g. `"CBAM"` or `"cbam"`.

    Returns:
        (type[nn.Module]): The registered class.

    Raises:
        ValueError: If no module is registered under `name`; the message lists the known names and suggests the
            closest one.

    Examples:
        >>> get_module("eca").__name__
        'ECA'
    """
    if isinstance(name, str):
        if name in MODULES:
            return MODULES[name]
        matches = [key for key in MODULES if key.lower() == name.lower()]
        if len(matches) == 1:
            return MODULES[matches[0]]
        if len(matches) > 1:
            raise ValueError(
                f"attention module name {name!r} is ambiguous; it matches {', '.join(matches)} (case differs)"
            )
    known = ", ".join(sorted(MODULES, key=str.lower)) or "(none registered)"
    raise ValueError(f"unknown attention module {name!r}. Known: {known}.{did_you_mean(str(name), MODULES)}")


def is_attention(layer: nn.Module) -> bool:
    """Whether a model layer is an attention layer: a registered module, or a container holding only such modules.

    The one predicate the package uses (layer roles, freezing, transfer, INT8 protection): an attention layer repeated
    in a YAML (``n > 1``) is an ``nn.Sequential`` of registered modules, and any other container of them counts too.

    Examples:
        >>> from yolo_attention.modules import CBAM
        >>> is_attention(CBAM(16)), is_attention(nn.Sequential(CBAM(16), CBAM(16))), is_attention(nn.Conv2d(1, 1, 1))
        (True, True, False)
    """
    if isinstance(layer, tuple(MODULES.values())):
        return True
    children = list(layer.children())
    return (
        bool(children)
        and not any(True for _ in layer.parameters(recurse=False))
        and all(is_attention(child) for child in children)
    )
