"""INT8 on real data (issue 14): accuracy and speed of OpenVINO NNCF INT8 for yolov8n and each attention variant.

The models are the seed-0 runs of ``tools/compare_deeppcb.py`` (each fine-tuned from the shipped DeepPCB baseline on
the project's held-out split, 4 epochs at 320 px) and the shipped baseline itself. For each:

accuracy, at the models' training size (--imgsz, 320): the FP32 OpenVINO export and its NNCF INT8 versions with the
attention gates kept in float and with them quantised, calibrated on --subset train images, validated on the 199
held-out boards (`compare_gate_protection`). Goal: INT8 mAP50 at most 0.5 point below FP32.

speed, at --speed-imgsz (640, batch 1, --threads): FP32 with f32 forced, and both INT8 models with the CPU plugin's
default precision for their float ops, timed in alternating blocks against the f32 model of the same weights; the
speed-up is 1 / the paired latency ratio, with its 95 % interval over blocks. The CPU plugin's default precision is
printed (bf16 where the CPU has AMX, else f32); goal: INT8 at least 1.8x true FP32 and not slower than the default.
What the INT8 graph runs in float is counted from the compiled model's runtime graph (`runtimePrecision` per op).

    nice python tools/int8_deeppcb.py --out runs/int8-deeppcb
"""

from __future__ import annotations

import argparse
import collections
import csv
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from deeppcb_holdout import DEFAULT_SRC, build_holdout  # noqa: E402

import yolo_attention  # noqa: E402, F401  registers the modules before checkpoints load

COMPARE = REPO_ROOT / "runs" / "compare-deeppcb"
SHIPPED = REPO_ROOT / "yolo_attention" / "weights" / "yolov8n-deeppcb.pt"
VARIANTS = (
    "plain",
    "yolov8n-cbam@two-stage-low-lr",
    "yolov8n-eca",
    "yolov8n-coordatt",
    "yolov8n-ecasam@four-phase",
)


def add_source_arguments(parser) -> None:
    """--from and --only of the scripts that start from this script's output (int8_recipes.py, qat_deeppcb.py)."""
    parser.add_argument(
        "--from",
        dest="source",
        type=Path,
        default=REPO_ROOT / "runs" / "int8-deeppcb",
        help="folder tools/int8_deeppcb.py --out wrote (<model>/model.pt, <model>/model_openvino_model at 320)",
    )
    parser.add_argument("--only", default="yolov8n-eca,yolov8n-coordatt", help="comma-separated model folders")


def source_checkpoint(source: Path, name: str) -> Path:
    """The checkpoint this script saved for model folder `name` under `source`; exits in one line if missing."""
    weights = source / name / "model.pt"
    if not weights.is_file():
        raise SystemExit(f"{weights} not found: run tools/int8_deeppcb.py --out {source} first")
    return weights


def default_models(compare: Path) -> dict[str, Path]:
    """The shipped baseline and the seed-0 final model of each variant of a `yolo-attn compare` folder."""
    import json

    models = {"yolov8n (shipped)": SHIPPED}
    state = json.loads((compare / "compare.json").read_text())
    for variant in VARIANTS:
        run = state["runs"].get(f"{variant}_seed0")
        if run:
            models[variant] = compare / run / "checkpoints" / "final_model.pt"
    return models


def runtime_precisions(compiled) -> collections.Counter:
    """Count the compiled model's compute ops by the precision they run in (``runtimePrecision`` of each op)."""
    skip = {"Input", "Output", "Const", "Parameter", "Result", "Constant", "Reorder"}
    counts = collections.Counter()
    for op in compiled.get_runtime_model().get_ordered_ops():
        info = op.get_rt_info()
        kind = info["layerType"].astype(str) if "layerType" in info else op.get_type_name()
        if kind in skip:
            continue
        precision = info["runtimePrecision"].astype(str) if "runtimePrecision" in info else "?"
        counts[precision] += 1
    return counts


def speed(fp32_dir: Path, int8_dirs: dict[str, Path], args) -> dict[str, tuple]:
    """Time each INT8 model against the f32-forced FP32 model; return name -> (ms, f32 ms, LatencyRatio, precisions)."""
    import statistics

    from yolo_attention.export.benchmark import _compile_openvino
    from yolo_attention.export.benchmark_timing import time_paired
    from yolo_attention.export.images import load_images

    x = load_images(None, args.speed_imgsz, 1).numpy()
    f32 = _compile_openvino(fp32_dir, "f32", args.threads)
    out = {}
    for name, folder in int8_dirs.items():
        compiled = _compile_openvino(folder, None, args.threads)
        a, b, ratio = time_paired(
            lambda c=compiled: c(x), lambda: f32(x), args.runs, 10, args.blocks, args.target_halfwidth
        )
        flat = lambda blocks: statistics.median(t for block in blocks for t in block)  # noqa: E731
        out[name] = (flat(a), flat(b), ratio, runtime_precisions(compiled))
    return out


def measure(name: str, weights: Path, data: Path, args) -> dict:
    """Accuracy and speed rows of one checkpoint."""
    from ultralytics import YOLO

    from yolo_attention.common.models import layers_of
    from yolo_attention.export import compare_gate_protection
    from yolo_attention.export.int8 import quantize_openvino
    from yolo_attention.integration import attention_layer_indices

    folder = args.out / name.replace(" ", "_").replace("(", "").replace(")", "")
    folder.mkdir(parents=True, exist_ok=True)
    model = YOLO(str(weights))
    attention = attention_layer_indices(model)
    head = len(layers_of(model)) - 1
    row = {"model": name, "weights": str(weights), "attention_layers": len(attention)}

    if args.accuracy:
        t = time.time()
        pt = folder / "model.pt"
        model.save(str(pt))
        fp32 = Path(YOLO(str(pt)).export(format="openvino", imgsz=args.imgsz, verbose=False))
        report = compare_gate_protection(model, fp32, data, args.imgsz, folder / "int8_openvino_model", args.subset)
        row.update(
            fp32_map50=report.fp32_map50,
            int8_float_gates_map50=report.protected_map50,
            int8_int8_gates_map50=report.unprotected_map50,
            fp32_map50_95=report.fp32_map50_95,
            int8_float_gates_map50_95=report.protected_map50_95,
            int8_int8_gates_map50_95=report.unprotected_map50_95,
            ops_kept_float_for_gates=report.gates,
        )
        print(f"{name}: accuracy at {args.imgsz} in {time.time() - t:.0f} s\n{report.table()}", flush=True)

    if args.speed_imgsz:
        t = time.time()
        big = folder / f"speed{args.speed_imgsz}"
        big.mkdir(exist_ok=True)
        big_pt = big / "model.pt"
        model.save(str(big_pt))
        fp32_big = Path(YOLO(str(big_pt)).export(format="openvino", imgsz=args.speed_imgsz, verbose=False))
        int8 = {
            "float_gates": quantize_openvino(
                fp32_big,
                data,
                attention,
                head,
                args.speed_imgsz,
                big / "float_gates_openvino_model",
                True,
                args.speed_subset,
            )
        }
        if attention:
            int8["int8_gates"] = quantize_openvino(
                fp32_big,
                data,
                attention,
                head,
                args.speed_imgsz,
                big / "int8_gates_openvino_model",
                False,
                args.speed_subset,
            )
        for key, (ms, f32_ms, ratio, precisions) in speed(fp32_big, int8, args).items():
            row[f"{key}_f32_ms"] = f32_ms
            row[f"{key}_ms"] = ms
            row[f"{key}_speedup"] = 1 / ratio.mean
            row[f"{key}_speedup_low"] = 1 / ratio.high
            row[f"{key}_speedup_high"] = 1 / ratio.low
            row[f"{key}_runtime_precisions"] = " ".join(f"{p}:{n}" for p, n in sorted(precisions.items()))
            print(
                f"{name} {key}: INT8 {ms:.2f} ms, f32 {f32_ms:.2f} ms at {args.speed_imgsz}: "
                f"{1 / ratio.mean:.2f}x [{1 / ratio.high:.2f}, {1 / ratio.low:.2f}] ({ratio.blocks} blocks); "
                f"compiled ops by precision: {row[f'{key}_runtime_precisions']}",
                flush=True,
            )
        print(f"{name}: speed at {args.speed_imgsz} in {time.time() - t:.0f} s", flush=True)
    return row


def _speedup(row: dict, key: str) -> str:
    if f"{key}_speedup" not in row:
        return "-"
    return f"{row[f'{key}_speedup']:.2f}x [{row[f'{key}_speedup_low']:.2f}, {row[f'{key}_speedup_high']:.2f}]"


def write_table(rows: list[dict], out: Path, args) -> None:
    """Write int8.csv and int8.md, and print the Markdown."""
    keys = list(dict.fromkeys(k for row in rows for k in row))
    with open(out / "int8.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, keys)
        writer.writeheader()
        writer.writerows(rows)
    nan = float("nan")
    pts = lambda a, b: f"{100 * (a - b):+.2f}"  # noqa: E731
    lines = [
        f"OpenVINO {__import__('openvino').__version__}, {args.threads} threads. mAP50 on the 199 held-out DeepPCB "
        f"boards at {args.imgsz} (calibration: {args.subset} train images); speed at {args.speed_imgsz}, batch 1, "
        "INT8 over f32-forced FP32 of the same weights (paired blocks, 95 % CI).",
        "",
        "| model | FP32 mAP50 | INT8 gates float | Δ pts | INT8 gates int8 | Δ pts | f32 ms | INT8 ms "
        "| speed-up [95% CI] | INT8 (gates int8) speed-up |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        speed_text, raw = (_speedup(r, key) for key in ("float_gates", "int8_gates"))
        lines.append(
            f"| {r['model']} | {100 * r.get('fp32_map50', nan):.2f} | {100 * r.get('int8_float_gates_map50', nan):.2f} "
            f"| {pts(r.get('int8_float_gates_map50', nan), r.get('fp32_map50', nan))} "
            f"| {100 * r.get('int8_int8_gates_map50', nan):.2f} "
            f"| {pts(r.get('int8_int8_gates_map50', nan), r.get('fp32_map50', nan))} "
            f"| {r.get('float_gates_f32_ms', nan):.2f} "
            f"| {r.get('float_gates_ms', nan):.2f} | {speed_text} | {raw} |"
        )
    (out / "int8.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC, help="DeepPCB trainval folder")
    parser.add_argument("--compare", type=Path, default=COMPARE, help="`yolo-attn compare` folder with the models")
    parser.add_argument("--only", default="", help="comma-separated model names to measure (default: all)")
    parser.add_argument("--imgsz", type=int, default=320, help="accuracy: the size the models were trained at")
    parser.add_argument("--speed-imgsz", type=int, default=640, help="speed (0: skip)")
    parser.add_argument("--accuracy", action=argparse.BooleanOptionalAction, default=True, help="measure mAP")
    parser.add_argument("--subset", type=int, default=300, help="calibration images for the accuracy models")
    parser.add_argument("--speed-subset", type=int, default=64, help="calibration images for the speed models")
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--blocks", type=int, default=12)
    parser.add_argument("--target-halfwidth", type=float, default=0.02)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("runs/int8-deeppcb"))
    args = parser.parse_args()
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    import openvino as ov

    data = build_holdout(args.src, REPO_ROOT / "runs" / "pcb").with_name("baseline.yaml")
    core = ov.Core()
    print(
        f"CPU: {core.get_property('CPU', 'FULL_DEVICE_NAME')}, capabilities "
        f"{core.get_property('CPU', 'OPTIMIZATION_CAPABILITIES')}, default inference precision "
        f"{core.get_property('CPU', 'INFERENCE_PRECISION_HINT')}",
        flush=True,
    )
    models = default_models(args.compare)
    if args.only:
        models = {k: v for k, v in models.items() if k in args.only.split(",")}
    start, rows = time.time(), []
    for name, weights in models.items():
        rows.append(measure(name, weights, data, args))
        write_table(rows, args.out, args)
    print(f"\ntotal {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
