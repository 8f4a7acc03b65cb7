"""Predict with an Ultralytics model over a YOLO dataset split and score it by DeepPCB's released evaluation script."""

from __future__ import annotations

import json
from pathlib import Path

from yolo_attention.common.images import list_images
from yolo_attention.eval.deeppcb.matching import DEEPPCB_IOU
from yolo_attention.eval.deeppcb.metric import evaluate_deeppcb
from yolo_attention.eval.deeppcb.result import DeepPCBResult
from yolo_attention.eval.deeppcb.submission import write_ground_truth, write_submission

__all__ = ["evaluate_model", "yolo_ground_truth"]


def yolo_ground_truth(image: str | Path, label: str | Path) -> list[tuple[float, float, float, float, int]]:
    """Pixel ``(x1, y1, x2, y2, class)`` rows of a YOLO label file, in its line order (polygons give their extent).

    Args:
        image (str | Path): The image, for its size.
        label (str | Path): Its YOLO label file; a missing file means no defects.

    Returns:
        (list[tuple[float, float, float, float, int]]): One row per label line.
    """
    from PIL import Image

    label = Path(label)
    if not label.is_file():
        return []
    with Image.open(image) as im:
        width, height = im.size
    rows = []
    for line in label.read_text().splitlines():
        values = line.split()
        if not values:
            continue
        cls, coords = int(float(values[0])), [float(v) for v in values[1:]]
        if len(coords) == 4:
            cx, cy, w, h = coords
            x1, y1, x2, y2 = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
        else:
            xs, ys = coords[0::2], coords[1::2]
            x1, y1, x2, y2 = min(xs), min(ys), max(xs), max(ys)
        rows.append((x1 * width, y1 * height, x2 * width, y2 * height, cls))
    return rows


def evaluate_model(
    model,
    data: str | Path,
    split: str = "val",
    imgsz: int = 640,
    conf: float = 0.25,
    predict_conf: float = 0.001,
    iou_threshold: float = DEEPPCB_IOU,
    batch: int = 16,
    device: str | None = None,
    out: str | Path | None = None,
    progress: bool = True,
) -> tuple[DeepPCBResult, Path | None]:
    """Predict an Ultralytics model on a YOLO dataset split and score it by DeepPCB's released evaluation script.

    Ground truth comes from the split's YOLO labels, in pixels of each image, rounded to integer pixels as written to
    ``gt.zip``; predictions are Ultralytics' boxes at ``predict_conf`` (low, so AP sees the whole ranking). The result
    scores every prediction, as a submission cut at ``predict_conf`` would be scored; ``result.at_conf(conf)`` is
    exactly what the release's script reports for the submission written to ``out`` (cut at ``conf``).

    Args:
        model (str | Path | ultralytics.YOLO): Weights, a model YAML, or a loaded model.
        data (str | Path): A data YAML (bundled names such as ``deeppcb.yaml`` resolve after ``import
            yolo_attention``).
        split (str): Dataset split to score. Defaults to ``"val"``.
        imgsz (int): Inference size. Defaults to 640.
        conf (float): Confidence cut of the submission written. Defaults to 0.25.
        predict_conf (float): Confidence threshold of the predictions scored. Defaults to 0.001.
        iou_threshold (float): Pairing threshold. Defaults to 0.33.
        batch (int): Inference batch size. Defaults to 16.
        device (str, optional): Inference device, as Ultralytics takes it.
        out (str | Path, optional): Folder for ``submission/`` (per-image ``.txt`` and ``res.zip``),
            ``ground_truth/`` (per-image ``.txt`` and ``gt.zip``) and ``deeppcb_metrics.json``; None writes nothing.
        progress (bool): Show a progress bar.

    Returns:
        (tuple[DeepPCBResult, Path | None]): The scores over all predictions, and the submission folder (or None).

    Raises:
        ValueError: If the model's classes do not match the dataset's, or image names repeat within the split.
        FileNotFoundError: If the dataset or split is not found.
    """
    from tqdm import tqdm
    from ultralytics import YOLO
    from ultralytics.data.utils import check_det_dataset, img2label_paths

    import yolo_attention  # noqa: F401  registers the modules and the bundled-file lookups

    info = check_det_dataset(str(data), autodownload=False, split=split)  # checks that split's images exist
    names = [info["names"][i] for i in sorted(info["names"])]
    images = list_images(info[split])
    if not images:
        raise FileNotFoundError(f"no images in split '{split}' of {data} ({info[split]})")
    stems = [p.stem for p in images]
    if len(set(stems)) != len(stems):
        raise ValueError(f"image names repeat in split '{split}' of {data}: submission files are named by image name")
    yolo = model if isinstance(model, YOLO) else YOLO(str(model))
    if len(yolo.names) != len(names):
        model_names = list(yolo.names.values())
        raise ValueError(f"the model predicts {len(model_names)} classes {model_names}; {data} has {names}")

    labels = img2label_paths([str(p) for p in images])
    ground_truth = {p.stem: yolo_ground_truth(p, label) for p, label in zip(images, labels)}
    predictions = {}
    results = yolo.predict(
        [str(p) for p in images], imgsz=imgsz, conf=predict_conf, batch=batch, device=device, stream=True, verbose=False
    )
    for r in tqdm(results, total=len(images), desc=f"DeepPCB protocol {split}", unit="img", disable=not progress):
        xyxy, scores, classes = (t.cpu().numpy().tolist() for t in (r.boxes.xyxy, r.boxes.conf, r.boxes.cls))
        predictions[Path(r.path).stem] = [(*b, s, int(c)) for b, s, c in zip(xyxy, scores, classes)]
    result = evaluate_deeppcb(ground_truth, predictions, names, iou_threshold)
    result.conf = predict_conf

    submission = None
    if out is not None:
        out = Path(out)
        submission = write_submission(predictions, out / "submission", names, conf=conf)
        write_ground_truth(ground_truth, out / "ground_truth", names)
        best_f, best_conf = result.best_fscore()
        metrics = {
            "rule": "DeepPCB's released evaluation script (official)",
            "all_predictions": result.to_dict(),
            "submission": result.at_conf(conf).to_dict(),
            "best_fscore": {"fscore": best_f, "conf": best_conf},
            "data": str(data),
            "split": split,
            "imgsz": imgsz,
            "predict_conf": predict_conf,
        }
        (out / "deeppcb_metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    return result, submission
