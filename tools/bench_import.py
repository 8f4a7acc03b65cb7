"""`import yolo_attention` against `import ultralytics` (and `from ultralytics import YOLO`) alone: fresh
interpreters, paired and interleaved, median and 95 % CI.

python tools/bench_import.py --runs 15
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys


def _time(code: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


PAIRS = {  # baseline -> the same plus the plugin
    "import ultralytics": "import ultralytics, yolo_attention",
    # what a user of the Python API imports anyway: the YOLO class loads Ultralytics' model parser, which the plugin
    # hooks, so against this the plugin pays only for its own code
    "from ultralytics import YOLO": "from ultralytics import YOLO; import yolo_attention",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    _time("import ultralytics")  # warm the file cache
    times = {code: [] for pair in PAIRS.items() for code in pair}
    for _ in range(args.runs):  # paired and interleaved: each baseline, then it with the plugin, in fresh processes
        for base, plugin in PAIRS.items():
            times[base].append(_time(base))
            times[plugin].append(_time(plugin))
    for base, plugin in PAIRS.items():
        diffs = [b - a for a, b in zip(times[base], times[plugin])]
        mean = statistics.mean(diffs)
        half = 1.96 * statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else float("nan")
        print(f"{base}: median {statistics.median(times[base]) * 1e3:.0f} ms")
        print(f"{plugin}: median {statistics.median(times[plugin]) * 1e3:.0f} ms")
        goal = "; goal +50" if base == "import ultralytics" else ""
        ci = f"95 % CI +/- {half * 1e3:.0f} ms, {len(diffs)} pairs"
        print(f"  added by yolo_attention: {mean * 1e3:+.0f} ms ({ci}){goal}")


if __name__ == "__main__":
    main()
