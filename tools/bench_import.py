"""What `import yolo_attention` adds to `import ultralytics` (and to `from ultralytics import YOLO`), in fresh
interpreters: median and 95 % CI over runs.

Each run imports the baseline first, untimed, then times `import yolo_attention` in the same process: exactly what the
plugin adds. (Timing the two imports in separate processes and subtracting is the same quantity, but torch's ~2 s import
on this machine swings by ±0.3 s from process to process and buries a 50 ms difference.)

python tools/bench_import.py --runs 30
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

# Imports read cached bytecode, as after `pip install` (which compiles it): PYTHONDONTWRITEBYTECODE would make an
# editable checkout recompile its sources on every import and measure the compiler instead.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
BASELINES = (
    "import ultralytics",
    # what a user of the Python API imports anyway: the YOLO class loads Ultralytics' model parser, which the plugin
    # hooks, so against this the plugin pays only for its own code
    "from ultralytics import YOLO",
)


def _added(baseline: str) -> tuple[float, float]:
    """(seconds of the baseline import, seconds `import yolo_attention` adds after it), in a fresh interpreter."""
    code = (
        f"import time; t0 = time.perf_counter(); {baseline}; t1 = time.perf_counter(); import yolo_attention; "
        "print(t1 - t0, time.perf_counter() - t1)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=ENV)
    base, added = out.stdout.strip().splitlines()[-1].split()
    return float(base), float(added)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    for baseline in BASELINES:  # warm the file cache and write the plugin's bytecode
        _added(baseline)
    times = {baseline: [] for baseline in BASELINES}
    for _ in range(args.runs):  # interleaved
        for baseline in BASELINES:
            times[baseline].append(_added(baseline))
    for baseline, runs in times.items():
        base, added = [r[0] for r in runs], [r[1] for r in runs]
        mean = statistics.mean(added)
        half = 1.96 * statistics.stdev(added) / len(added) ** 0.5 if len(added) > 1 else float("nan")
        goal = "; goal +50" if baseline == "import ultralytics" else ""
        print(f"{baseline}: median {statistics.median(base) * 1e3:.0f} ms")
        print(
            f"  import yolo_attention after it: median {statistics.median(added) * 1e3:+.0f} ms, mean "
            f"{mean * 1e3:+.0f} ms (95 % CI +/- {half * 1e3:.0f} ms, {len(added)} runs){goal}"
        )


if __name__ == "__main__":
    main()
