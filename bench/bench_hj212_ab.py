"""HJ 212 decode cost of this tree beside the codec of an earlier git revision, in the same process.

The revision's ``src/ecohub/protocols/hj212`` is extracted with ``git archive`` into a temporary
package and both decoders run on the same packets of ``bench_hj212_decode.py``, interleaved round
by round and timed with ``process_time`` (CPU time: less disturbed by other processes on a shared
machine than wall time); the best round of each is printed.

    .venv/bin/python bench/bench_hj212_ab.py ef16836      (the codec before issue 10; ~30 s)
"""

from __future__ import annotations

import importlib
import io
import random
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import bench_hj212_decode as packets  # noqa: E402

from ecohub.protocols import hj212 as current  # noqa: E402


def load_revision(rev: str, folder: Path):
    """The codec package of git revision ``rev`` as module ``hj212_at_rev``."""
    tar = subprocess.run(["git", "archive", rev, "src/ecohub/protocols/hj212"], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as tf:
        tf.extractall(folder, filter="data")
    (folder / "src" / "ecohub" / "protocols" / "hj212").rename(folder / "hj212_at_rev")
    sys.path.insert(0, str(folder))
    return importlib.import_module("hj212_at_rev")


def per_packet(fn, frames: list[bytes]) -> float:
    t0 = time.process_time()
    for f in frames:
        fn(f)
    return (time.process_time() - t0) / len(frames)


def main() -> None:
    rev = sys.argv[1] if len(sys.argv) > 1 else "HEAD"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 41
    rng = random.Random(212)
    sets = {"real-time": packets.realtime_packets(500, rng), "hourly": packets.hourly_packets(500, rng)}
    with tempfile.TemporaryDirectory() as tmp:
        old = load_revision(rev, Path(tmp))
        print(f"HJ 212 decode, µs per packet (CPU), best of {rounds} interleaved rounds of 500 packets")
        print(f"{'packets':10} {rev[:12]:>12} {'this tree':>10} {'ratio':>6}")
        for name, frames in sets.items():
            for f in frames:  # both decode every packet
                old.decode(f)
                current.decode(f)
            a = b = float("inf")
            for _ in range(rounds):
                a = min(a, per_packet(old.decode, frames))
                b = min(b, per_packet(current.decode, frames))
            print(f"{name:10} {a * 1e6:12.2f} {b * 1e6:10.2f} {b / a:6.3f}")


if __name__ == "__main__":
    main()
