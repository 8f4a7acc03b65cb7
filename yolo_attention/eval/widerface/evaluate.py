"""Score a prediction folder, or predict with an Ultralytics model and score it, by WIDER FACE's protocol.

The protocol's prediction settings (``WIDERFACE_PREDICT``): a low confidence threshold (0.02) so the curve reaches
high recall, NMS at IoU 0.5, up to 1,000 faces per image (crowd images hold several hundred), and an inference size
of 640 (the longer side; YOLOv5-face's and YOLOv8-face's published WIDER FACE figures use 640, RetinaFace its
original image sizes, which favours Hard).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from yolo_attention.common.images import list_images
from yolo_attention.eval.widerface.landmarks import LandmarkResult, ScoredFace, landmark_nme
from yolo_attention.eval.widerface.metric import WIDERFACE_IOU, score_widerface
from yolo_attention.eval.widerface.predictions import read_predictions, write_predictions
from yolo_attention.eval.widerface.reading import WiderFaceGroundTruth, read_ground_truth
from yolo_attention.eval.widerface.result import WiderFaceResult

__all__ = ["WIDERFACE_PREDICT", "evaluate_landmarks", "evaluate_model", "evaluate_widerface", "predict_widerface"]

LOGGER = logging.getLogger(__name__)

WIDERFACE_PREDICT = {"imgsz": 640, "conf": 0.02, "iou": 0.5, "max_det": 1000}
"""The protocol's prediction settings: inference size, confidence threshold, NMS IoU, faces per image."""


def evaluate_widerface(
    pred_dir: str | Path, gt_dir: str | Path | WiderFaceGroundTruth, iou_threshold: float = WIDERFACE_IOU
) -> WiderFaceResult:
    """Easy, Medium and Hard AP of a prediction folder, exactly as WIDER FACE's official evaluation computes them.

    Args:
        pred_dir (str | Path): Predictions in the official layout, ``<event>/<name>.txt`` (from any detector).
        gt_dir (str | Path | WiderFaceGroundTruth): Folder with ``wider_face_val.mat``, ``wider_easy_val.mat``,
            ``wider_medium_val.mat`` and ``wider_hard_val.mat``, or the ground truth already read.
        iou_threshold (float): Match threshold. Defaults to 0.5.

    Returns:
        (WiderFaceResult): ``.easy``, ``.medium``, ``.hard`` and the curves behind them.

    Raises:
        FileNotFoundError: If the ground truth is incomplete or no prediction file matches a ground-truth image.
        ValueError: If a file is malformed.

    Examples:
        >>> result = evaluate_widerface("runs/widerface/predictions", "widerface-val-gt")  # doctest: +SKIP
        >>> print(result.summary())  # doctest: +SKIP
    """
    ground_truth = gt_dir if isinstance(gt_dir, WiderFaceGroundTruth) else read_ground_truth(gt_dir)
    result = score_widerface(ground_truth, read_predictions(pred_dir, ground_truth), iou_threshold)
    if result.images_without_predictions:
        result.warnings.append(
            f"{result.images_without_predictions} of {result.n_images} images have no prediction file in "
            f"'{pred_dir}' and count as having no detections"
        )
    return result


def _yolo(model):
    from ultralytics import YOLO

    import yolo_attention  # noqa: F401  registers the modules and the bundled-file lookups

    return model if isinstance(model, YOLO) else YOLO(str(model))


def _face_classes(yolo) -> list[int] | None:
    """None (every class) for a one-class model, else the class named ``face``."""
    names = dict(yolo.names)
    if len(names) == 1:
        return None
    faces = [i for i, name in names.items() if str(name).lower() == "face"]
    if not faces:
        raise ValueError(f"the model predicts {len(names)} classes and none is 'face': {list(names.values())[:10]}")
    return faces


def _absolute(path: str | Path) -> str:
    """One spelling of an image path, as given and as Ultralytics reports it in ``Results.path``."""
    return os.path.abspath(path)


def _predict(yolo, images: list[Path], settings: dict, batch: int, device, progress: bool, desc: str) -> Iterator:
    """Ultralytics' results, one per image, streamed."""
    from tqdm import tqdm

    results = yolo.predict(
        [_absolute(p) for p in images],
        **settings,
        batch=batch,
        device=device,
        classes=_face_classes(yolo),
        stream=True,
        verbose=False,
    )
    yield from tqdm(results, total=len(images), desc=desc, unit="img", disable=not progress)


def predict_widerface(
    model,
    images: str | Path | list[str | Path],
    out: str | Path | None = None,
    imgsz: int = WIDERFACE_PREDICT["imgsz"],
    conf: float = WIDERFACE_PREDICT["conf"],
    iou: float = WIDERFACE_PREDICT["iou"],
    max_det: int = WIDERFACE_PREDICT["max_det"],
    batch: int = 16,
    device: str | None = None,
    events: WiderFaceGroundTruth | Mapping[str, str] | None = None,
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """Predict faces with an Ultralytics model and (with ``out``) write them in the official layout.

    Args:
        model (str | Path | ultralytics.YOLO): Weights, a model YAML or a loaded model; one class, or a class named
            ``face``.
        images (str | Path | list): The release's ``WIDER_val/images`` folder (``<event>/<name>.jpg``), a flat
            folder of converted images, a file list, or a glob; see ``common.images.list_images``.
        out (str | Path, optional): Folder for ``<event>/<name>.txt``; None writes nothing.
        imgsz (int): Inference size. Defaults to 640.
        conf (float): Confidence threshold. Defaults to 0.02.
        iou (float): NMS IoU. Defaults to 0.5.
        max_det (int): Faces per image at most. Defaults to 1000.
        batch (int): Inference batch size. Defaults to 16.
        device (str, optional): Inference device, as Ultralytics takes it.
        events (WiderFaceGroundTruth | Mapping[str, str], optional): The event of each image name (without
            ``.jpg``), e.g. the ground truth read by ``read_ground_truth``; needed for a flat folder. Without it (or
            for a name it does not know) an image's event is its parent folder's name.
        progress (bool): Show a progress bar.

    Returns:
        (dict[str, np.ndarray]): ``"<event>/<name>"`` -> (N, 5) ``x y w h score`` rows in pixels of the image.

    Raises:
        FileNotFoundError: If ``images`` holds no image.
        ValueError: If two images get the same ``<event>/<name>``, or the model has several classes and no ``face``.
    """
    files = list_images(images)
    if not files:
        raise FileNotFoundError(f"no images in {images}; expected WIDER_val/images/<event>/*.jpg or a folder of images")
    event_of = events.event_of if isinstance(events, WiderFaceGroundTruth) else dict(events or {}).get
    keys = {}
    for path in files:
        key = f"{event_of(path.stem) or path.parent.name}/{path.stem}"
        if key in keys:
            raise ValueError(f"{keys[key]} and {path} both give prediction file {key}.txt")
        keys[key] = path
    by_path = {_absolute(path): key for key, path in keys.items()}
    settings = {"imgsz": imgsz, "conf": conf, "iou": iou, "max_det": max_det}
    predictions = {}
    for r in _predict(_yolo(model), files, settings, batch, device, progress, "WIDER FACE predict"):
        xyxy, scores = r.boxes.xyxy.cpu().numpy().astype(np.float64), r.boxes.conf.cpu().numpy().astype(np.float64)
        rows = np.column_stack([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2], scores]) if len(xyxy) else np.zeros((0, 5))
        predictions[by_path[_absolute(r.path)]] = rows
    if out is not None:
        write_predictions(predictions, out)
    return predictions


def _split_images(data: str | Path, split: str) -> list[Path]:
    """Images of a data YAML's split, or of a folder/list given instead of a YAML."""
    if str(data).lower().endswith((".yaml", ".yml")):
        from ultralytics.data.utils import check_det_dataset

        import yolo_attention  # noqa: F401  bundled dataset names

        info = check_det_dataset(str(data), autodownload=False)
        if split not in info:
            raise ValueError(f"{data} has no split '{split}'")
        return list_images(info[split])
    return list_images(data)


def evaluate_model(
    model,
    data: str | Path,
    gt: str | Path,
    split: str = "val",
    imgsz: int = WIDERFACE_PREDICT["imgsz"],
    conf: float = WIDERFACE_PREDICT["conf"],
    iou: float = WIDERFACE_PREDICT["iou"],
    max_det: int = WIDERFACE_PREDICT["max_det"],
    batch: int = 16,
    device: str | None = None,
    out: str | Path | None = None,
    progress: bool = True,
) -> tuple[WiderFaceResult, Path | None]:
    """Predict the WIDER FACE validation images with a model and score them by the official evaluation.

    Predictions are written in the official layout and scored from those files, so the figures are exactly what the
    official code reports for them. Images the ground truth does not list are not predicted (and said so); listed
    images that are absent count as having no detections (a warning in the result).

    Args:
        model (str | Path | ultralytics.YOLO): Weights, a model YAML or a loaded model.
        data (str | Path): A face data YAML (its ``split`` images: a converted WIDER FACE, ``widerface.yaml``), or
            the release's ``WIDER_val/images`` folder.
        gt (str | Path): Folder with the four official ``.mat`` files.
        split (str): Data YAML split. Defaults to ``"val"``.
        imgsz (int): Inference size. Defaults to 640.
        conf (float): Confidence threshold. Defaults to 0.02.
        iou (float): NMS IoU. Defaults to 0.5.
        max_det (int): Faces per image at most. Defaults to 1000.
        batch (int): Inference batch size. Defaults to 16.
        device (str, optional): Inference device.
        out (str | Path, optional): Folder for ``predictions/<event>/<name>.txt`` and ``widerface_metrics.json``;
            None scores from a temporary folder and keeps nothing.
        progress (bool): Show a progress bar.

    Returns:
        (tuple[WiderFaceResult, Path | None]): The scores, and the prediction folder (None without ``out``).

    Raises:
        FileNotFoundError: If the ground truth is incomplete or no image of it is found.
    """
    ground_truth = read_ground_truth(gt)
    files = _split_images(data, split)
    listed = [p for p in files if ground_truth.event_of(p.stem) is not None]
    if not listed:
        raise FileNotFoundError(
            f"none of the {len(files)} images of {data} ({split}) is a WIDER FACE validation image listed in {gt}"
        )
    if len(listed) < len(files):
        LOGGER.warning(f"{len(files) - len(listed)} images of {data} are not in the ground truth and are not scored")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(out) / "predictions" if out is not None else Path(tmp) / "predictions"
        settings = {"imgsz": imgsz, "conf": conf, "iou": iou, "max_det": max_det}
        predict_widerface(model, listed, folder, batch=batch, device=device, events=ground_truth, progress=progress,
                          **settings)  # fmt: skip
        result = evaluate_widerface(folder, ground_truth)
    if out is not None:
        metrics = {**result.to_dict(), "data": str(data), "split": split, "gt": str(gt), "predict": settings}
        (Path(out) / "widerface_metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    return result, folder if out is not None else None


def evaluate_landmarks(
    model,
    data: str | Path,
    split: str = "val",
    imgsz: int = WIDERFACE_PREDICT["imgsz"],
    conf: float = WIDERFACE_PREDICT["conf"],
    iou: float = WIDERFACE_PREDICT["iou"],
    max_det: int = WIDERFACE_PREDICT["max_det"],
    batch: int = 16,
    device: str | None = None,
    normalize: str = "diagonal",
    progress: bool = True,
) -> LandmarkResult:
    """Landmark NME of a face pose model on a face dataset split with labelled points (``landmarks.landmark_nme``).

    WIDER FACE's validation labels have no landmarks, so this needs a split that has them: the synthetic faces
    (``faces-synthetic.yaml``) or a part of the converted training set.

    Args:
        model (str | Path | ultralytics.YOLO): A face pose model (five keypoints).
        data (str | Path): A face data YAML.
        split (str): Its split to score. Defaults to ``"val"``.
        imgsz (int): Inference size. Defaults to 640.
        conf (float): Confidence threshold. Defaults to 0.02.
        iou (float): NMS IoU. Defaults to 0.5.
        max_det (int): Faces per image at most. Defaults to 1000.
        batch (int): Inference batch size. Defaults to 16.
        device (str, optional): Inference device.
        normalize (str): ``"diagonal"`` (ground-truth box diagonal) or ``"interocular"``. Defaults to diagonal.
        progress (bool): Show a progress bar.

    Returns:
        (LandmarkResult): NME, per-landmark errors and how many faces were matched.

    Raises:
        ValueError: If the model predicts no five keypoints.
    """
    from PIL import Image
    from ultralytics.data.utils import img2label_paths

    from yolo_attention.data.widerface_pose import FACE_KPT_SHAPE, FacePose, read_pose_labels

    yolo = _yolo(model)
    kpt_shape = getattr(yolo.model, "kpt_shape", None) or yolo.model.yaml.get("kpt_shape")
    if kpt_shape is None or int(kpt_shape[0]) != FACE_KPT_SHAPE[0]:
        raise ValueError(f"the model predicts keypoints {kpt_shape}; landmark NME needs a face model with [5, 3]")
    images = _split_images(data, split)
    ground_truth = {}
    for image, label in zip(images, img2label_paths([str(p) for p in images])):
        with Image.open(image) as im:
            ground_truth[_absolute(image)] = read_pose_labels(label, *im.size)
    predictions: dict[str, list[ScoredFace]] = {}
    settings = {"imgsz": imgsz, "conf": conf, "iou": iou, "max_det": max_det}
    for r in _predict(yolo, images, settings, batch, device, progress, "landmark NME"):
        boxes, scores = r.boxes.xyxy.cpu().numpy().tolist(), r.boxes.conf.cpu().numpy().tolist()
        points = r.keypoints.xy.cpu().numpy().tolist() if r.keypoints is not None else [[]] * len(boxes)
        predictions[_absolute(r.path)] = [
            (FacePose(tuple(box), tuple((x, y, 2) for x, y in kpts)), score)
            for box, kpts, score in zip(boxes, points, scores)
        ]
    return landmark_nme(ground_truth, predictions, normalize=normalize)
