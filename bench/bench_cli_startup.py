"""Command-line start-up: wall time of ``ecohub <command> --help`` (best of N runs), beside the interpreter's
own start (``python -c pass``) and the whole command line (``ecohub --help``, every module imported), measured
in the same run. Standalone commands (``aqi``, ``water-class``, ``hj212``) import only their own module
(``ecohub.cli.main.STANDALONE``); polars is imported on first use.

    .venv/bin/python bench/bench_cli_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time


def best(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    py = sys.executable
    entry = [py, "-c", "from ecohub.cli.main import main; main()"]
    floor = best([py, "-c", "pass"], a.runs)
    rows = [("python -c pass (interpreter start)", floor)]
    for words in (["aqi", "--help"], ["water-class", "--help"], ["hj212", "parse", "--help"], ["--help"]):
        rows.append(("ecohub " + " ".join(words), best([*entry, *words], a.runs)))
    print(f"\nCLI start-up, best of {a.runs} runs")
    for label, s in rows:
        print(f"  {label:<40} {s * 1000:8.0f} ms   {s / floor:6.1f}× the interpreter")


if __name__ == "__main__":
    main()
