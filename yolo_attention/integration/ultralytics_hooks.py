"""The one module that touches Ultralytics internals: YAML names, channel plumbing, file lookup, safe loading.

Everything here is guarded by a canary test (tests/test_canary.py) that fails loudly when an Ultralytics release
changes one of the internals listed in `INTERNALS`. Nothing in Ultralytics is edited or copied: names are added to
`ultralytics.nn.tasks`' namespace, and five functions are wrapped (`parse_model`, `check_yaml`, `BaseModel.load`,
`ultralytics.data.utils.check_file` and `ultralytics.utils.downloads.attempt_download_asset`).
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Callable
from pathlib import Path

import torch
from ultralytics.data import utils as data_utils
from ultralytics.nn import tasks
from ultralytics.utils import downloads

from yolo_attention.common.models import layers_of
from yolo_attention.modules import MODULES, AttentionModule, is_attention
from yolo_attention.modules.base import ATTN_INITS
from yolo_attention.modules.registry import load_entry_points
from yolo_attention.modules.suggest import did_you_mean
from yolo_attention.resources import bundled_model_cfgs, find_bundled

__all__ = [
    "INTERNALS",
    "CheckpointError",
    "LayerBuildError",
    "RawPredictions",
    "attention_layer_indices",
    "RampIterations",
    "clip_grad_norm_at",
    "expose_module",
    "forget_loss",
    "install",
    "original_load",
    "read_checkpoint",
    "training_loader",
    "training_loss",
]

# Each internal we rely on, and why. tests/test_canary.py checks every one against the installed Ultralytics.
INTERNALS = {
    "ultralytics.nn.tasks.parse_model": "resolves YAML module names through tasks' globals(); locals `ch`, `f`, `i` "
    "hold the input channels, the `from` index and the layer index while a layer is built",
    "ultralytics.nn.tasks.check_yaml": "model YAML lookup used by yaml_model_load (wrapped to add model_cfgs/)",
    "ultralytics.data.utils.check_file": "dataset YAML lookup used by check_det_dataset (wrapped to add datasets/)",
    "ultralytics.nn.tasks._SafeLoad": "ULTRALYTICS_SAFE_LOAD builds its allow-list on torch's add_safe_globals",
    "ultralytics.nn.tasks.BaseModel.load": "every weight transfer (YOLO.load, trainer get_model with pretrained=) "
    "goes through it; wrapped to place source layers by correspondence before Ultralytics' key matching",
    "ultralytics.nn.tasks.load_checkpoint": "reads a checkpoint file into its model (read_checkpoint)",
    "ultralytics.utils.downloads.attempt_download_asset": "every .pt load (torch_safe_load) resolves the file "
    "through it, looked up at call time; wrapped so shipped weights resolve by name (yolov8n-deeppcb.pt) and so "
    "installed packages' entry-point modules are allow-listed before a weights-only load",
    "layer attributes .f .i .type": "set on every layer by parse_model; correspondence reads them",
    "ultralytics.engine.trainer.BaseTrainer.optimizer_step": "clips with torch.nn.utils.clip_grad_norm_(..., "
    "max_norm=10.0) looked up at call time; clip_grad_norm_at() substitutes the configured norm",
    "ultralytics.engine.trainer.BaseTrainer._get_warmup_iterations": "the training loop asks it for the warm-up "
    "length in iterations (capped at epochs - 1); RampIterations overrides it so a phase can ramp from zero even "
    "when it lasts one epoch",
    "ultralytics.data.build_yolo_dataset, build_dataloader": "training_loader() reads a train split through "
    "Ultralytics' own augmenting dataset and loader, configured by get_cfg (quantisation-aware fine-tuning)",
    "head raw predictions in training mode, BaseModel.loss": "the head returns its raw prediction dict when its "
    "`training` flag is set, whatever the model's mode, and model.loss(batch, preds) takes that dict with the loss "
    "gains read from model.args by a criterion it builds once into model.criterion (RawPredictions, training_loss, "
    "forget_loss)",
}

_ORIGINAL = {}  # name -> the Ultralytics function we wrapped, kept so wrapping is idempotent


class LayerBuildError(ValueError):
    """A model YAML layer that names an attention module could not be built."""


def _parse_model_code():
    return _ORIGINAL.get("parse_model", tasks.parse_model).__code__


def _layer_being_parsed() -> tuple[int, int | list, list]:
    """Return (layer index, `from`, channels so far) of the layer parse_model is building right now."""
    code = _parse_model_code()
    frame = sys._getframe(2)
    while frame is not None and frame.f_code is not code:  # n > 1 builds inside a generator expression
        frame = frame.f_back
    if frame is None:
        raise RuntimeError(
            "attention layers named in a model YAML must be built by Ultralytics' parse_model; to build one directly, "
            "import it from yolo_attention.modules and pass the input channels"
        )
    local = frame.f_locals
    return local["i"], local["f"], local["ch"]


def _yaml_entry(name: str, cls: type) -> type:
    """Return the class parse_model sees under `name`: it builds `cls` with the layer's true input channels.

    parse_model calls a module it does not know with its YAML args unchanged (`CBAM(7)`), so the entry reads the input
    channels of the layer being built from parse_model and calls `cls.from_yaml_args(c1, args)` (AttentionModule), else
    `cls(c1, *args, **mapping)` where a trailing mapping in the args holds keyword arguments (README). The entry is an
    nn.Module subclass so that restricted (safe) loading accepts it; the object it returns is a plain `cls` instance.
    """

    def __new__(entry, *args):
        i, f, ch = _layer_being_parsed()
        c1 = ch[f]  # check_layer_names made sure `f` is one index
        try:
            if hasattr(cls, "from_yaml_args"):
                return cls.from_yaml_args(c1, list(args))
            positional, keywords = list(args), {}
            if positional and isinstance(positional[-1], dict):
                keywords = positional.pop()
            return cls(c1, *positional, **keywords)
        except (TypeError, ValueError) as e:
            raise LayerBuildError(f"layer {i} ({name}, {c1} input channels): {e} (YAML args: {list(args)})") from e

    return type(
        name,
        (torch.nn.Module,),
        {"__new__": __new__, "__module__": cls.__module__, "__qualname__": cls.__qualname__, "__doc__": cls.__doc__},
    )


_ULTRALYTICS_NAMES = frozenset(vars(tasks))  # what tasks' namespace held before the plugin added anything


def expose_module(name: str, cls: type) -> None:
    """Make `name` usable in Ultralytics model YAMLs and `cls` loadable under ULTRALYTICS_SAFE_LOAD."""
    if name in _ULTRALYTICS_NAMES:
        raise ValueError(
            f"'{name}' already names something in Ultralytics' model parser; register it under another name"
        )
    tasks.__dict__[name] = _yaml_entry(name, cls)
    _allow_safe_load(cls)


def _allow_safe_load(cls: type) -> None:
    """Add `cls` and every module class defined beside it in the plugin to torch's weights-only allow-list."""
    classes = {cls}
    pending = [AttentionModule]
    while pending:  # internal parts such as ChannelAttention are pickled too
        parent = pending.pop()
        classes.add(parent)
        pending.extend(parent.__subclasses__())
    torch.serialization.add_safe_globals(sorted(classes, key=lambda c: f"{c.__module__}.{c.__qualname__}"))


def _known_layer_names() -> list[str]:
    names = [k for k, v in vars(tasks).items() if isinstance(v, type) and issubclass(v, torch.nn.Module)]
    return list(MODULES) + sorted(set(names) - set(MODULES))


def check_layer_names(d: dict) -> None:
    """Raise a ValueError naming the layer and what is wrong with it, before parse_model runs.

    Checked: the layer's shape, args that are not a list, and an unknown module (named with the closest known name).
    """
    source = d.get("yaml_file", "the model YAML")
    for i, layer in enumerate(list(d.get("backbone", [])) + list(d.get("head", []))):
        if not isinstance(layer, (list, tuple)) or len(layer) != 4:
            raise ValueError(f"layer {i} in {source} must be [from, repeats, module, args], got {layer!r}")
        m = layer[2]
        if not isinstance(m, str):
            raise ValueError(f"layer {i} in {source}: module must be a name, got {m!r}")
        if not isinstance(layer[3], (list, tuple)):
            raise ValueError(
                f"layer {i} ({m}) in {source}: args must be a list (e.g. [{layer[3]!r}] or []), got {layer[3]!r}"
            )
        if m in MODULES and not isinstance(layer[0], int):
            raise LayerBuildError(
                f"layer {i} ({m}): attention takes one input, so `from` must be an int, got {layer[0]}"
            )
        if m.startswith(("nn.", "torchvision.ops.")) or m in vars(tasks):
            continue
        raise ValueError(
            f"layer {i} in {source}: unknown module '{m}'. Attention modules: {', '.join(MODULES)}."
            f"{did_you_mean(m, _known_layer_names())}"
        )


def check_model_keys(d: dict) -> None:
    """Raise a ValueError for a wrong yolo-attention key in a model YAML, before parse_model runs.

    ``attn_init`` must be a known initialisation (it was otherwise refused only when weights were loaded), and the
    ``attention: {module: ..., after: [...]}`` record must name an attention module the layers use.
    """
    source = d.get("yaml_file", "the model YAML")
    init = d.get("attn_init")
    if init and init not in ATTN_INITS:  # empty means the default, as in arch.transfer.resolve_attn_init
        raise ValueError(f"{source}: attn_init must be one of {', '.join(ATTN_INITS)}, got {init!r}")
    record = d.get("attention")
    if record is None:
        return
    if not isinstance(record, dict):
        raise ValueError(f"{source}: 'attention:' must be {{module: <name>, after: [<layer>, ...]}}, got {record!r}")
    module = record.get("module")
    if not isinstance(module, str):
        raise ValueError(f"{source}: 'attention: {record}' must name its module, e.g. {{module: CBAM, after: [4]}}")
    used = sorted({layer[2] for layer in list(d.get("backbone", [])) + list(d.get("head", [])) if layer[2] in MODULES})
    if module not in used:
        unknown = "" if module in MODULES else f" ({module!r} is not an attention module)"
        raise ValueError(
            f"{source}: 'attention: {record}' must name the attention module its layers use{unknown}: "
            f"{', '.join(used) or 'no layer is an attention module'}.{did_you_mean(str(module), used or list(MODULES))}"
        )


def _parse_model(d, ch, verbose=True):
    load_entry_points()  # installed packages' modules become YAML names before the first model is built
    check_layer_names(d)
    check_model_keys(d)
    return _ORIGINAL["parse_model"](d, ch, verbose)


_SOFT_MISS: list[str] = [""]  # the last name looked up without `hard` and not found


def _check_yaml(file, suffix=(".yaml", ".yml"), hard=True):
    found = _ORIGINAL["check_yaml"](file, suffix, hard=False)
    if found:
        return found
    bundled = find_bundled(file)
    if bundled is not None:
        return str(bundled)
    if not hard:
        _SOFT_MISS[0] = str(file)
        return found
    # yaml_model_load looks up yolov8n-cbma.yaml softly, then the scale-less yolov8-cbma.yaml: name what was typed
    asked = _SOFT_MISS[0] if re.sub(r"(\d+)([nslmx])(.+)?$", r"\1\3", _SOFT_MISS[0]) == str(file) else str(file)
    scale = tasks.guess_model_scale(asked)
    names = [re.sub(r"^(yolov\d+)", rf"\g<1>{scale}", p.name) for p in bundled_model_cfgs()]
    hint = "" if scale else "; add a scale letter: yolov8n-cbam.yaml"
    raise FileNotFoundError(
        f"model YAML '{asked}' not found in the working directory, Ultralytics' configs or yolo-attention's bundled "
        f"ones ({', '.join(names)}{hint}).{did_you_mean(Path(asked).name, names)}"
    )


def _require_converted(dataset_yaml: Path) -> None:
    """A bundled dataset YAML whose data is not shipped (a `convert:` key) must have been converted first.

    Without this, Ultralytics reports the folder it looked in last (``<cwd>/datasets/datasets/hripcb/...``).
    """
    import yaml
    from ultralytics.utils import DATASETS_DIR

    info = yaml.safe_load(dataset_yaml.read_text()) or {}
    command, path = info.get("convert"), Path(str(info.get("path", "")))
    if command and not path.is_absolute() and not path.exists() and not (DATASETS_DIR / path).exists():
        raise FileNotFoundError(
            f"{dataset_yaml.stem} is not bundled and has not been converted here (no {path}/ in this folder or in "
            f"{DATASETS_DIR}): convert the release first with `{command}`"
        )


def _check_file(file, suffix="", download=True, download_dir=".", hard=True):
    bundled = None if Path(str(file)).exists() else find_bundled(file)
    if bundled is not None and bundled.suffix in (".yaml", ".yml"):
        _require_converted(bundled)
        return str(bundled)
    return _ORIGINAL["check_file"](file, suffix=suffix, download=download, download_dir=download_dir, hard=hard)


@contextlib.contextmanager
def clip_grad_norm_at(max_norm: float | None):
    """Make the clipping inside Ultralytics' `BaseTrainer.optimizer_step` use `max_norm` instead of its fixed 10.0.

    Ultralytics' docs suggest subclassing the trainer for another norm; the subclass (training/trainer.py) calls
    `super().optimizer_step()` inside this context instead of copying the method.
    """
    if max_norm is None:
        yield
        return
    original = torch.nn.utils.clip_grad_norm_

    def clip_grad_norm_(parameters, max_norm_ignored=None, *args, **kwargs):
        kwargs.pop("max_norm", None)
        return original(parameters, max_norm, *args, **kwargs)

    torch.nn.utils.clip_grad_norm_ = clip_grad_norm_
    try:
        yield
    finally:
        torch.nn.utils.clip_grad_norm_ = original


class RampIterations:
    """Trainer mixin: a learning-rate ramp of `ramp_epochs` epochs (set per phase), also in a one-epoch phase.

    Ultralytics ramps every learning rate from zero (the bias rate from `warmup_bias_lr`) and the momentum from
    `warmup_momentum` over `warmup_epochs`, but caps the ramp at epochs - 1 "leaving at least the final epoch for
    regular training", so a one-epoch phase starts a fresh optimizer at its full rate: on a trained detector that
    collapses mAP (issue 13). With `ramp_epochs` set, Ultralytics' own ramp runs over that many epochs (at most the
    phase), whatever `warmup_epochs` says; None keeps Ultralytics' behaviour.
    """

    ramp_epochs: float | None = None

    def _get_warmup_iterations(self, num_batches):
        """Ultralytics' warm-up length in iterations, or `ramp_epochs` worth of them when set."""
        if self.ramp_epochs is None:
            return super()._get_warmup_iterations(num_batches)
        return round(min(float(self.ramp_epochs), float(self.epochs)) * num_batches)


def _attempt_download_asset(file, *args, **kwargs):
    load_entry_points()  # installed packages' modules join the weights-only allow-list before a checkpoint is read
    if not Path(str(file)).exists():
        bundled = find_bundled(str(file).strip())
        if bundled is not None and bundled.suffix == ".pt":
            return str(bundled)
    return _ORIGINAL["attempt_download_asset"](file, *args, **kwargs)


def original_load(model, weights, verbose=True):
    """Ultralytics' own `BaseModel.load`: key-and-shape matching with its class-name and head handling."""
    return _ORIGINAL["load"](model, weights, verbose=verbose)


class CheckpointError(ValueError):
    """A file given as weights is not a readable PyTorch/Ultralytics checkpoint."""


def read_checkpoint(path: str | Path):
    """Read an Ultralytics checkpoint file into its model (FP32), with one clear error for anything else.

    Raises:
        FileNotFoundError: If the file does not exist.
        CheckpointError: If it is not a PyTorch checkpoint (truncated, another format, text), naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights '{path}' not found")
    try:
        model, _ = tasks.load_checkpoint(str(path))
    except Exception as e:  # torch.load raises many types for a bad file (UnpicklingError, RuntimeError, ValueError)
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"'{path.name}' is not a PyTorch checkpoint ({reason[:160]})") from None
    return model


_LOADER = {}  # "load": the plugin's loader, set by install()


def _load(self, weights, verbose=True):
    if isinstance(weights, (str, Path)):
        weights = read_checkpoint(weights)
    _LOADER["load"](self, weights, key_loader=_ORIGINAL["load"], verbose=verbose)


def install(load: Callable | None = None) -> None:
    """Wrap the Ultralytics lookups once; calling it again changes nothing.

    Args:
        load (Callable, optional): The plugin's weight loader, ``load(model, weights, key_loader=, verbose=)``,
            which `BaseModel.load` calls from now on (passed in, so this module imports nothing from the layers
            above it). Without one, `BaseModel.load` keeps Ultralytics' behaviour.
    """
    if load is not None:
        _LOADER["load"] = load
    elif "load" not in _LOADER:
        _LOADER["load"] = lambda model, weights, key_loader, verbose=True: key_loader(model, weights, verbose=verbose)
    for owner, name, wrapper in (
        (tasks, "parse_model", _parse_model),
        (tasks, "check_yaml", _check_yaml),
        (data_utils, "check_file", _check_file),
        (tasks.BaseModel, "load", _load),
        (downloads, "attempt_download_asset", _attempt_download_asset),
    ):
        if name not in _ORIGINAL:
            _ORIGINAL[name] = getattr(owner, name)
            setattr(owner, name, wrapper)


def attention_layer_indices(model: torch.nn.Module) -> list[int]:
    """Return the indices of the attention layers in an Ultralytics model (`YOLO`, `DetectionModel` or its layers).

    Examples:
        >>> from ultralytics import YOLO
        >>> attention_layer_indices(YOLO("yolov8n-eca.yaml"))
        [5, 8, 12]
    """
    layers = layers_of(model)
    return [i for i, layer in enumerate(layers) if is_attention(layer)]


def training_loader(model: torch.nn.Module, data: str | Path, imgsz: int, batch: int, task: str, workers: int = 2):
    """Ultralytics' training loader over the train split of `data`: its dataset, augmentation and collation.

    Raises ValueError when the model's classes or keypoints are not the dataset's. Sets ``model.args`` to the
    matching training configuration (Ultralytics' defaults), where the loss reads its
    gains. The loader is seeded as Ultralytics seeds it: the same torch seed gives the same batches.

    Args:
        model (torch.nn.Module): The Ultralytics model (`DetectionModel`, `PoseModel`) the batches are for.
        data (str | Path): Dataset YAML.
        imgsz (int): Training image size.
        batch (int): Batch size.
        task (str): ``detect`` or ``pose`` (pose reads keypoints from the labels).
        workers (int): Loader worker processes.

    Returns:
        (torch.utils.data.DataLoader): An endless loader (Ultralytics' InfiniteDataLoader): iterate it per epoch.
    """
    from ultralytics.cfg import get_cfg
    from ultralytics.data import build_dataloader, build_yolo_dataset
    from ultralytics.data.utils import check_det_dataset

    args = get_cfg(overrides={"data": str(data), "imgsz": imgsz, "batch": batch, "mode": "train", "task": task})
    info = check_det_dataset(str(data))
    head = model.model[-1]
    if head.nc != info["nc"] or tuple(getattr(head, "kpt_shape", None) or ()) != tuple(info.get("kpt_shape") or ()):
        found = f"nc={info['nc']}" + (f" kpt_shape={info['kpt_shape']}" if info.get("kpt_shape") else "")
        wanted = f"nc={head.nc}" + (f" kpt_shape={head.kpt_shape}" if getattr(head, "kpt_shape", None) else "")
        raise ValueError(
            f"the model ({wanted}) was not built for '{data}' ({found}); give the dataset it was trained on"
        )
    stride = max(int(model.stride.max()), 32)
    dataset = build_yolo_dataset(args, info["train"], batch, info, mode="train", stride=stride)
    model.args = args
    forget_loss(model)  # a criterion built earlier holds the gains of another configuration
    return build_dataloader(dataset, batch, workers, shuffle=True)


class RawPredictions(torch.nn.Module):
    """Wraps an Ultralytics model so that it returns its head's raw prediction dict (the loss's input) in any mode.

    The head decodes its outputs unless its own ``training`` flag is set, and tools that trace the model (NNCF
    calibrates and inserts its quantisers with the model in eval mode) switch every module to eval, so the flag is
    set again on every call. Keys of the wrapped model's state dict are prefixed ``net.``.
    """

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.net = model

    def forward(self, x: torch.Tensor):
        """Return the head's raw prediction dict for the image batch `x`."""
        self.net.model[-1].training = True
        return self.net(x)


def training_loss(model: torch.nn.Module, batch: dict, preds) -> torch.Tensor:
    """The model's training loss (summed over its components, as Ultralytics' trainer backpropagates it).

    Args:
        model (torch.nn.Module): The model whose criterion is used (``model.args`` set by `training_loader`).
        batch (dict): A batch of `training_loader`.
        preds: The raw predictions (`RawPredictions`) for ``batch["img"]``.
    """
    loss, _ = model.loss(batch, preds)
    return loss.sum()


def forget_loss(model: torch.nn.Module) -> None:
    """Drop the criterion `BaseModel.loss` built and keeps on the model.

    The next loss builds it again from ``model.args``, and a saved model does not carry it.
    """
    model.criterion = None
