"""`import yolo_attention` against `import ultralytics` alone: fresh interpreters, interleaved, median and 95 % CI.

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    _time("import ultralytics")  # warm the file cache
    diffs, base, plugin = [], [], []
    for _ in range(args.runs):  # paired: ultralytics alone, then ultralytics + the plugin, in fresh processes
        a = _time("import ultralytics")
        b = _time("import ultralytics, yolo_attention")
        base.append(a)
        plugin.append(b)
        diffs.append(b - a)
    mean = statistics.mean(diffs)
    half = 1.96 * statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else float("nan")
    print(f"import ultralytics: median {statistics.median(base) * 1e3:.0f} ms")
    print(f"import ultralytics + yolo_attention: median {statistics.median(plugin) * 1e3:.0f} ms")
    print(
        f"added by yolo_attention: {mean * 1e3:+.0f} ms (95 % CI +/- {half * 1e3:.0f} ms, {len(diffs)} pairs); goal +50"
    )


if __name__ == "__main__":
    main()
