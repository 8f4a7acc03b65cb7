"""Train every variant and seed under one budget, beside the honest comparator, and write the comparison.

out/
    compare.json                 the settings and, per run, its experiment folder (relative)
    runs/<variant>_seed<k>_*/    one staged experiment per variant and seed (`yolo_attention.train`)
    latency/                     each variant's ONNX export, timed interleaved with the others
    results/comparison.{csv,md,json}, results/plots/*.png

`plain` is always a row: the same pretrained checkpoint trained by Ultralytics' plain training (schedule ``none``)
for the same total epochs and seeds. Every other variant gets the same total, split over its schedule's phases in
the schedule's proportions (each phase at least one epoch). A rerun skips finished runs and resumes interrupted ones.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

from yolo_attention.training.experiment import read_results, write_atomic

__all__ = ["PLAIN", "Variant", "compare", "parse_variants", "split_epochs"]

PLAIN = "plain"


@dataclass(frozen=True)
class Variant:
    """One row of the comparison: a model trained with a schedule (``plain``: the checkpoint, schedule ``none``)."""

    name: str
    model: str
    schedule: str


def _log(message: str) -> None:
    from ultralytics.utils import LOGGER

    LOGGER.info(f"yolo-attention compare: {message}")


def parse_variants(models, schedule: str, pretrained: str) -> list[Variant]:
    """`plain` first, then one variant per model; ``model@schedule`` gives a model its own schedule.

    A model without attention layers would be the plain comparator again: it is refused with one line.
    """
    from ultralytics import YOLO

    from yolo_attention.arch.correspondence import layer_map

    specs = [m.strip() for m in (models.split(",") if isinstance(models, str) else models) if str(m).strip()]
    if not specs:
        raise ValueError("models= names no model; e.g. models=yolov8n-cbam.yaml,yolov8n-eca.yaml")
    variants = [Variant(PLAIN, str(pretrained), "none")]
    for spec in specs:
        model, _, own = str(spec).partition("@")
        sched = own or schedule
        if not layer_map(YOLO(model, verbose=False)).attention:
            raise ValueError(f"{model} has no attention layers: it is the `plain` row, which every comparison has")
        name = Path(model).stem + (f"@{Path(own).stem}" if own and own != schedule else "")
        if name in {v.name for v in variants}:
            raise ValueError(f"models= names {name} twice")
        variants.append(Variant(name, model, sched))
    return variants


def split_epochs(phase_epochs: list[int], total: int) -> list[int]:
    """Split `total` epochs over phases in the proportions of `phase_epochs`, each phase at least one.

    Examples:
        >>> split_epochs([25, 125], 4), split_epochs([30, 25, 25, 30], 4), split_epochs([25, 125], 150)
        ([1, 3], [1, 1, 1, 1], [25, 125])
    """
    n = len(phase_epochs)
    if total < n:
        raise ValueError(f"epochs={total} is less than the schedule's {n} phases (each needs one epoch)")
    weight = sum(phase_epochs)
    shares = [total * e / weight for e in phase_epochs]
    counts = [max(1, math.floor(s)) for s in shares]
    by_remainder = sorted(range(n), key=lambda i: (shares[i] - math.floor(shares[i]), -i), reverse=True)
    for i in by_remainder[: max(0, total - sum(counts))]:
        counts[i] += 1
    while sum(counts) > total:  # the one-epoch minimum took epochs from the others
        counts[max(range(n), key=lambda i: counts[i])] -= 1
    return counts


def _phase_epochs(variant: Variant, total: int) -> dict[str, int]:
    from yolo_attention.training.schedule import load_schedule

    if variant.schedule == "none":
        return {"train": total}
    phases = load_schedule(variant.schedule).phases
    return dict(zip([p.name for p in phases], split_epochs([p.epochs for p in phases], total)))


class _State:
    """compare.json: the settings a comparison was started with and where each run's experiment is."""

    def __init__(self, out: Path, settings: dict):
        self.path = out / "compare.json"
        saved = json.loads(self.path.read_text()) if self.path.is_file() else {}
        old = saved.get("settings")
        if old and old != settings:
            changed = sorted(k for k in {**old, **settings} if old.get(k) != settings.get(k))
            raise ValueError(
                f"{out} holds a comparison with other settings ({', '.join(changed)} differ); use another out="
            )
        self.data = {"settings": settings, "runs": saved.get("runs", {})}
        self.save()

    def save(self) -> None:
        write_atomic(self.path, json.dumps(self.data, indent=2))


def _sha256(path: str) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _finished(exp: Path) -> bool:
    state_file = exp / "experiment.json"
    return state_file.is_file() and bool(json.loads(state_file.read_text()).get("final_model"))


def _run(variant: Variant, seed: int, total: int, out: Path, state: _State, settings: dict) -> Path:
    """Train (or resume, or skip) one variant at one seed; return its experiment folder."""
    from yolo_attention.training import train
    from yolo_attention.training.runner import resume_experiment

    run_id = f"{variant.name}_seed{seed}"
    known = state.data["runs"].get(run_id)
    if known and (out / known).is_dir():
        if _finished(out / known):
            return out / known
        if (out / known / "experiment.json").is_file() and "plan" in json.loads(
            (out / known / "experiment.json").read_text()
        ):
            _log(f"{run_id}: resuming {known}")
            return resume_experiment(out / known)
    epochs = {f"training_strategy.{p}.epochs": e for p, e in _phase_epochs(variant, total).items()}
    # plain gets the checkpoint as its weights too, so its run also records the score it started from
    model_args = {"model": variant.model, "pretrained": settings["pretrained"]}
    before = set((out / "runs").glob(f"{run_id}_*"))
    try:
        root = train(
            data=settings["data"],
            schedule=variant.schedule,
            seed=seed,
            project=str(out / "runs"),
            name=run_id,
            **model_args,
            **settings["overrides"],
            **epochs,
        )
    finally:  # an interrupted run is found again by its folder
        made = sorted(set((out / "runs").glob(f"{run_id}_*")) - before)
        if made:
            state.data["runs"][run_id] = str(made[-1].relative_to(out))
            state.save()
    return root


def _record(exp: Path, variant: Variant, seed: int, out: Path, deeppcb: bool, settings: dict) -> dict:
    """The run record of a finished experiment: final held-out metrics, each phase's start/end and curve."""
    state = json.loads((exp / "experiment.json").read_text())
    rows = state["evaluation"]
    labels = [r["model"] for r in rows]
    phases = []
    for phase in state["phases"]:
        index = labels.index(f"after {phase['name']}")
        start = [r for r in rows[:index] if r["model"] != "pretrained"] or rows[:index]
        curve = [
            {"epoch": i + 1, "mAP50": r.get("metrics/mAP50(B)"), "mAP50-95": r.get("metrics/mAP50-95(B)")}
            for i, r in enumerate(read_results(exp / phase["save_dir"] / "results.csv"))
        ]
        phases.append(
            {
                "name": phase["name"],
                "start_mAP50": start[-1]["mAP50"] if start else None,
                "end_mAP50": rows[index]["mAP50"],
                "curve": curve,
            }
        )
    final = rows[labels.index(f"after {state['phases'][-1]['name']}")]
    info = json.loads((exp / "results" / "training_summary.json").read_text()).get("experiment_info", {})
    record = {
        "variant": variant.name,
        "schedule": Path(variant.schedule).stem,
        "seed": seed,
        "experiment": str(exp.relative_to(out)),
        "epochs": sum(int(p.get("epochs") or 0) for p in state["phases"]),
        "time_s": info.get("total_training_time_s"),
        "metrics": {"mAP50": final["mAP50"], "mAP50-95": final["mAP50-95"]},
        "phases": phases,
    }
    if deeppcb:
        record["metrics"]["F"], record["per_image"] = _deeppcb_scores(exp, settings)
    return record


def _deeppcb_scores(exp: Path, settings: dict) -> tuple[float, dict]:
    """DeepPCB's official F-score of the final model (submission at conf 0.25) and per-image (tp, fp, fn) counts.

    Cached in the experiment's results/deeppcb_scores.json: a rerun does not predict again.
    """
    cache = exp / "results" / "deeppcb_scores.json"
    if cache.is_file():
        saved = json.loads(cache.read_text())
        return saved["F"], saved["per_image"]
    from yolo_attention.eval.deeppcb.evaluate import evaluate_model
    from yolo_attention.eval.deeppcb.metric import score_images

    conf = 0.25
    result, _ = evaluate_model(
        str(exp / "checkpoints" / "final_model.pt"), settings["data"], imgsz=settings["imgsz"], conf=conf,
        progress=False,
    )  # fmt: skip
    submitted = result.at_conf(conf)
    ids, counts = [], []
    for image in result._images:  # the release pairs within each image: per-image counts sum to the totals
        one = score_images([image.keep(conf)], result.iou_threshold, result._names, conf)
        ids.append(image.image_id)
        counts.append([one.n_correct, one.n_det - one.n_correct, one.n_gt - one.n_correct])
    per_image = {"image_ids": ids, "counts": counts}
    write_atomic(cache, json.dumps({"F": submitted.fscore, "per_image": per_image}))
    return submitted.fscore, per_image


def _variant_info(variants: list[Variant], weights: dict[str, Path], out: Path, imgsz: int, latency: bool) -> list:
    """Parameters, GFLOPs and onnxruntime latency (batch 1, CPU, interleaved runs) of each variant's model."""
    import numpy as np
    from ultralytics import YOLO
    from ultralytics.utils.torch_utils import get_flops

    infos, runners = [], []
    folder = out / "latency"
    folder.mkdir(parents=True, exist_ok=True)
    for variant in variants:
        model = YOLO(str(weights[variant.name]), verbose=False)
        info = {
            "variant": variant.name,
            "params": sum(p.numel() for p in model.model.parameters()),
            "gflops": round(float(get_flops(model.model, imgsz=imgsz)), 3),
            "latency_ms": None,
            "latency_ratio": None,
        }
        infos.append(info)
        if latency:
            onnx = folder / f"{variant.name}.onnx"
            if not onnx.is_file():
                pt = folder / f"{variant.name}.pt"
                pt.write_bytes(Path(weights[variant.name]).read_bytes())
                Path(YOLO(str(pt)).export(format="onnx", imgsz=imgsz, batch=1, dynamic=False, verbose=False))
            runners.append(onnx)
    if latency:
        from yolo_attention.export.benchmark import backend_runner, time_interleaved

        x = np.random.default_rng(0).random((1, 3, imgsz, imgsz), dtype=np.float32)
        calls = [backend_runner("onnx", path) for path in runners]
        times = time_interleaved([lambda run=run: run(x) for run in calls], runs=60, warmup=10, blocks=6)
        medians = [float(np.median(t)) for t in times]
        for info, median in zip(infos, medians):
            info["latency_ms"] = round(median, 3)
            info["latency_ratio"] = round(median / medians[0], 4)
    return infos


def compare(
    data: str,
    models,
    pretrained: str,
    schedule: str = "two-stage",
    seeds: int = 3,
    epochs: int | None = None,
    out: str | Path = "runs/compare",
    latency: bool = True,
    **overrides,
) -> Path:
    """Train `plain` and each model over `seeds` seeds under one epoch budget; write the comparison.

    Args:
        data (str): Dataset YAML; its val split is where every run is measured.
        models (str | list[str]): Attention model YAMLs, comma-separated; ``model@schedule`` for a schedule of its own.
        pretrained (str): The trained checkpoint every run starts from (and `plain` continues).
        schedule (str): Schedule of the models that name none. Defaults to ``two-stage``.
        seeds (int): Seeds 0..seeds-1 per variant. Defaults to 3.
        epochs (int, optional): Total epochs of every run (split over a schedule's phases in its proportions);
            defaults to the schedule's own total.
        out (str | Path): The comparison folder. Defaults to ``runs/compare``.
        latency (bool): Export each variant to ONNX and time it (onnxruntime, CPU). Defaults to True.
        **overrides: Ultralytics train arguments for every run (``imgsz=320``, ``batch=16``, ``fraction=0.5``).

    Returns:
        (Path): The comparison folder.
    """
    from yolo_attention.compare.plots import write_plots
    from yolo_attention.compare.table import write_comparison
    from yolo_attention.eval.protocol import protocol_for
    from yolo_attention.training.schedule import load_schedule

    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds must be an int >= 1, got {seeds!r}")
    if not Path(str(pretrained)).is_file():
        from yolo_attention.resources import find_bundled

        found = find_bundled(str(pretrained))
        if found is None:
            raise FileNotFoundError(f"pretrained={pretrained} is not a file (compare starts every run from it)")
        pretrained = str(found)
    variants = parse_variants(models, schedule, str(pretrained))
    total = epochs if epochs is not None else sum(p.epochs for p in load_schedule(schedule).phases)
    if isinstance(total, bool) or not isinstance(total, int) or total < 1:
        raise ValueError(f"epochs must be an int >= 1, got {total!r}")
    plan = {v.name: _phase_epochs(v, total) for v in variants}  # a budget too small for a schedule fails now
    out = Path(out).resolve()
    (out / "runs").mkdir(parents=True, exist_ok=True)
    imgsz = int(overrides.get("imgsz", 640))
    settings = {
        "data": str(data), "pretrained": str(Path(pretrained).resolve()), "epochs": total, "imgsz": imgsz,
        "overrides": {k: v for k, v in overrides.items()}, "schedule": schedule,
    }  # fmt: skip
    # the checkpoint is checked by content: the same weights found at another path (another install) are the same
    state = _State(out, {**settings, "pretrained": _sha256(settings["pretrained"])})
    deeppcb = protocol_for(str(data)) == "deeppcb"
    jobs = [(v, s) for s in range(seeds) for v in variants]
    _log(f"{len(variants)} variants x {seeds} seeds = {len(jobs)} runs of {total} epochs; phases {plan}")
    records, started, trained = [], time.time(), 0
    for n, (variant, seed) in enumerate(jobs, 1):
        done_before = state.data["runs"].get(f"{variant.name}_seed{seed}")
        finished = bool(done_before) and _finished(out / done_before)
        elapsed = time.time() - started
        left = f", about {elapsed / trained * (len(jobs) - n + 1) / 60:.0f} min left" if trained else ""
        _log(f"run {n}/{len(jobs)}: {variant.name} seed {seed}" + (" (done, skipped)" if finished else left))
        exp = _run(variant, seed, total, out, state, settings)
        trained += not finished
        records.append(_record(exp, variant, seed, out, deeppcb, settings))
    firsts = {v.name: out / state.data["runs"][f"{v.name}_seed0"] / "checkpoints" / "final_model.pt" for v in variants}
    infos = _variant_info(variants, firsts, out, imgsz, latency)
    paths = write_comparison(out, records, infos)
    write_plots(out, records, infos)
    _log(f"comparison written: {paths['md']}\n" + Path(paths["md"]).read_text())
    return out
