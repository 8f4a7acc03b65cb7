"""Hand-made comparison records (the runner's contract) shared by the compare and report tests."""

from __future__ import annotations

# mAP50 per seed; cbam beats plain on every seed, eca is within noise and lacks seed 2
MAP50 = {"plain": [0.70, 0.71, 0.72], "yolov8n-cbam": [0.73, 0.75, 0.74], "yolov8n-eca": [0.69, 0.72]}
MAP50_95 = {"plain": [0.40, 0.41, 0.42], "yolov8n-cbam": [0.42, 0.44, 0.43], "yolov8n-eca": [0.39, 0.42]}
F = {"plain": [0.66, 0.67, 0.68], "yolov8n-cbam": [0.70, 0.71, 0.69], "yolov8n-eca": [0.65, None]}
SCHEDULE = {"plain": "none", "yolov8n-cbam": "two-stage", "yolov8n-eca": "two-stage"}


def curve(values: list[float]) -> list[dict]:
    return [{"epoch": i + 1, "mAP50": v, "mAP50-95": v / 2} for i, v in enumerate(values)]


def record(variant: str, seed: int) -> dict:
    """The finished run of `variant` at `seed`, built from the tables above."""
    m = MAP50[variant][seed]
    if variant == "plain":
        phases = [{"name": "train", "start_mAP50": 0.60, "end_mAP50": m, "curve": curve([0.62, 0.66, 0.68, m])}]
    else:
        warm_end = 0.65 + seed / 100
        phases = [
            {"name": "warmup", "start_mAP50": 0.60, "end_mAP50": warm_end, "curve": curve([0.63, warm_end])},
            {"name": "finetune", "start_mAP50": warm_end, "end_mAP50": m, "curve": curve([0.70, m])},
        ]
    return {
        "variant": variant,
        "schedule": SCHEDULE[variant],
        "seed": seed,
        "experiment": f"runs/{variant}_seed{seed}",
        "epochs": 4,
        "time_s": 100.0 + seed,
        "metrics": {"mAP50": m, "mAP50-95": MAP50_95[variant][seed], "F": F[variant][seed]},
        "phases": phases,
    }


def records() -> list[dict]:
    """Every run, interleaved the way a runner finishing seed by seed would record them (cbam first)."""
    order = ["yolov8n-cbam", "plain", "yolov8n-eca"]
    return [record(v, s) for s in range(3) for v in order if s < len(MAP50[v])]


def variants(latency: bool = True) -> list[dict]:
    infos = [
        {"variant": "plain", "params": 3011043, "gflops": 8.2, "latency_ms": 10.0, "latency_ratio": 1.0},
        {"variant": "yolov8n-cbam", "params": 3056789, "gflops": 8.3, "latency_ms": 11.5, "latency_ratio": 1.15},
        {"variant": "yolov8n-eca", "params": 3011100, "gflops": 8.2, "latency_ms": 10.4, "latency_ratio": 1.04},
    ]
    if not latency:
        for info in infos:
            info.update(latency_ms=None, latency_ratio=None)
    return infos
