"""Quantisation-aware fine-tuning before INT8 export: weights that survive 8-bit rounding.

Post-training INT8 (`int8.quantize_openvino`) loses 1.0-1.7 mAP50 points on some DeepPCB models, and the loss is
spread over the convolutions every variant shares, not in the attention (tools/int8_recipes.py). Fine-tuning the model
briefly with NNCF's fake quantisers in its graph lets the weights adapt to the rounding: on DeepPCB one epoch kept the
INT8 drop within 0.5 point where the same epoch without the quantisers did not (tools/qat_deeppcb.py).

`qat_fine_tune` runs that epoch: the model as exported (Conv+BN fused), Ultralytics' augmenting train loader and
loss, Adam at a low rate, fake quantisers inserted by `nncf.quantize` (MIXED preset, calibrated on the train split).
The quantisers are then dropped and the fine-tuned float weights saved as a checkpoint; the INT8 export quantises
that checkpoint post-training as usual ("QAT-then-PTQ": the learned ranges are not carried over).
"""

from __future__ import annotations

import copy
import math
import random
import time
from pathlib import Path

__all__ = ["QAT_LR", "check_qat_settings", "fake_quantised", "qat_fine_tune"]

QAT_LR = 1e-5
"""Adam learning rate of the fine-tuning (tools/qat_deeppcb.py; chosen before its first run, not tuned)."""


def check_qat_settings(epochs: float, lr: float, batch: int = 8) -> None:
    """Raise a one-line ValueError for a number of epochs, learning rate or batch size that cannot be meant.

    Examples:
        >>> check_qat_settings(0.5, 1e-5)
        >>> check_qat_settings(-1, 1e-5)
        Traceback (most recent call last):
        ...
        ValueError: qat_epochs must be a number of epochs in (0, 100], got -1
    """
    if not isinstance(epochs, (int, float)) or isinstance(epochs, bool) or not 0 < epochs <= 100:
        raise ValueError(f"qat_epochs must be a number of epochs in (0, 100], got {epochs!r}")
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not 0 < lr < 1:
        raise ValueError(f"qat_lr must be a learning rate in (0, 1), got {lr!r}")
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise ValueError(f"batch must be a positive int, got {batch!r}")


def fake_quantised(net, data: str | Path, imgsz: int, subset_size: int = 300):
    """Return a copy of the Ultralytics model `net` with NNCF's fake quantisers, returning raw head predictions.

    NNCF's post-training quantisation of the PyTorch model (MIXED preset, as the OpenVINO INT8 export uses, though
    here the attention gates are quantised too) places the quantisers and calibrates their ranges on up to
    `subset_size` letterboxed train images of `data`, on the device `net` is on. NNCF finds each quantiser again by
    module and call order, so the copy must run as calibrated: in eval mode. It is differentiable: training it trains
    its weights through the 8-bit rounding. Its state dict holds the model's tensors under ``net.``
    (`RawPredictions`) besides the quantisers' own.
    """
    import nncf
    import torch

    from yolo_attention.export.int8 import calibration_dataset, quiet_nncf
    from yolo_attention.integration import RawPredictions

    device = next(net.parameters()).device
    calibration = calibration_dataset(data, imgsz, "train", subset_size)
    images = [torch.from_numpy(a).to(device) for a in calibration.get_inference_data()]
    with quiet_nncf():
        return nncf.quantize(
            RawPredictions(net),
            nncf.Dataset(images),
            preset=nncf.QuantizationPreset.MIXED,
            subset_size=min(subset_size, len(images)),
        )


def qat_fine_tune(
    model,
    data: str | Path,
    out: str | Path,
    imgsz: int = 640,
    epochs: float = 1.0,
    lr: float = QAT_LR,
    batch: int = 8,
    seed: int = 0,
    subset_size: int = 300,
    workers: int = 2,
    quantize: bool = True,
    device: str | None = None,
) -> Path:
    """Fine-tune `model` with fake quantisation on the train split of `data`; save and return the float checkpoint.

    Args:
        model: A `YOLO` (detection or pose) or a checkpoint path. It is not modified: a copy is fine-tuned.
        data (str | Path): Dataset YAML; its train split is trained and calibrated on.
        out (str | Path): The checkpoint file to write.
        imgsz (int): Training size (the export size).
        epochs (float): Passes over the train split; fractions allowed (0.5 is half the batches).
        lr (float): Adam learning rate.
        batch (int): Batch size.
        seed (int): Seed of the batches and augmentation: the same seed gives the same weights, run by run, on the
            same machine and threads. (NNCF loads its CPU kernels on first use; the first QAT of a process differs
            from later ones in the last bits.)
        subset_size (int): Calibration images of the fake quantisers (from the train split).
        workers (int): Loader worker processes.
        quantize (bool): Insert the fake quantisers; False fine-tunes the same way without them (the comparator).
        device (str, optional): Where to train (Ultralytics' ``device``: ``cpu``, ``0``, ...); the CPU by default.

    The model is trained in eval mode, as it is exported and as the quantisers were calibrated: BatchNorm layers
    left unfused (in CoordAtt, BAM) keep their statistics, CoordAtt takes its exported path and DropPath is off.

    Returns:
        (Path): `out`, a checkpoint Ultralytics loads (``YOLO(out)``), Conv+BN fused, saved in FP16 as Ultralytics
            saves every checkpoint.

    Raises:
        ValueError: Bad `epochs`, `lr` or `batch`, a model whose classes or keypoints are not the dataset's, or a
            loss that stops being finite (a learning rate too high).
    """
    import numpy as np
    import torch
    from ultralytics import YOLO
    from ultralytics.utils import LOGGER
    from ultralytics.utils.torch_utils import select_device

    from yolo_attention.integration import RawPredictions, forget_loss, training_loader, training_loss

    check_qat_settings(epochs, lr, batch)
    torch.manual_seed(seed)  # loader workers seed their augmentation from it; with workers=0 it runs here:
    random.seed(seed)
    np.random.seed(seed)
    yolo = YOLO(str(model)) if isinstance(model, (str, Path)) else copy.deepcopy(model)
    # Ultralytics' select_device would also drop the CPU threads to cpu_count - 1 for the rest of the process
    dev = torch.device("cpu") if device in (None, "", "cpu") else select_device(device, verbose=False)
    net = yolo.model.float().fuse().to(dev).eval()
    for p in net.parameters():
        p.requires_grad_(True)
    loader = training_loader(net, data, imgsz, batch, yolo.task, workers)  # checks the model fits the data first
    wrapped = fake_quantised(net, data, imgsz, subset_size) if quantize else RawPredictions(net)
    optimizer = torch.optim.Adam([p for p in wrapped.parameters() if p.requires_grad], lr=lr)
    wrapped.eval()
    steps = max(1, math.ceil(epochs * len(loader)))
    every = max(1, steps // 10)
    step, start = 0, time.time()
    LOGGER.info(
        f"yolo-attention QAT: {steps} steps of {batch} images at {imgsz} "
        f"({'with' if quantize else 'without'} fake quantisation, Adam lr {lr:g})"
    )
    while step < steps:
        for batch_data in loader:
            batch_data["img"] = batch_data["img"].to(dev).float() / 255
            loss = training_loss(net, batch_data, wrapped(batch_data["img"]))
            if not torch.isfinite(loss):
                raise ValueError(f"QAT loss is {loss.item()} at step {step + 1}; try a lower qat_lr than {lr:g}")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if step % every == 0 or step == steps:
                LOGGER.info(f"  QAT step {step}/{steps}  loss {loss.item():.3f}  ({time.time() - start:.0f} s)")
            if step >= steps:
                break
    if quantize:  # NNCF trained a copy of `net`: bring its weights back
        state = {k.removeprefix("net."): v for k, v in wrapped.state_dict().items() if k.startswith("net.")}
        result = net.load_state_dict(state, strict=False)
        if result.missing_keys:
            raise RuntimeError(f"fine-tuned weights missing for {result.missing_keys[:3]}")
    for p in net.parameters():
        p.requires_grad_(False)
    forget_loss(net)
    yolo.model = net.cpu()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    yolo.save(str(out))
    return out
