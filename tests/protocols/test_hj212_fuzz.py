"""Bounded run of the atheris harness (fuzz/fuzz_hj212.py); skipped where atheris is missing."""

from __future__ import annotations

import importlib.util
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[2] / "fuzz" / "fuzz_hj212.py"
RUNS = int(os.environ.get("HJ212_FUZZ_RUNS", "3000"))


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris not installed")
def test_atheris_bounded_run(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    env = {**os.environ, "PYTHONPATH": str(HARNESS.parents[1] / "src")}
    seeds = subprocess.run([sys.executable, str(HARNESS), "--make-seeds", str(corpus)], capture_output=True, text=True, env=env, timeout=120)
    assert seeds.returncode == 0, seeds.stderr
    # libFuzzer bounds the *peak* RSS (getrusage ru_maxrss), and Linux carries a process's peak across fork and
    # execve: the harness starts with the peak of this pytest process (2 GB late in a full run — an OOM report at
    # the first check). Allow 1 GiB of growth above what it inherits.
    rss_limit = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024 + 1024
    run = subprocess.run(
        [sys.executable, str(HARNESS), f"-runs={RUNS}", "-max_len=2100", "-seed=212", f"-rss_limit_mb={rss_limit}",
         str(corpus)],
        capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"Done {RUNS} runs" in run.stderr
