"""The random draw (ecohub-draw-v1) on a provincial directory: 20 000 objects, 600 inspectors with avoidance
links, ratios key 0.25 / general 0.05 / special 0.5 — beside a baseline from the same run: Python's
``random.sample`` of the same counts (which is not reproducible across versions, hence not used), and the same
algorithm without avoidance/locality filtering cost. Run: ``.venv/bin/python bench/bench_draw.py``."""

from __future__ import annotations

import random
import time

from ecohub.supervision.inspect import draw as algo


def directory(n_obj: int = 20_000, n_insp: int = 600):
    rng = random.Random(1)
    cities = [f"13{c:02d}" for c in range(1, 12)]
    objs = [algo.Obj(f"U{i:06d}", rng.choice(["key", "general", "general", "special"]), rng.choice(cities) + "02")
            for i in range(n_obj)]
    insps = [algo.Inspector(f"I{j:04d}", rng.choice(cities) + "00",
                            tuple(o.uscc for o in rng.sample(objs, 5))) for j in range(n_insp)]
    return objs, insps


def main() -> None:
    objs, insps = directory()
    ratios = {"key": 0.25, "general": 0.05, "special": 0.5}
    t0 = time.perf_counter()
    res = algo.run(objs, insps, seed="bench", period="2026-12", scope="000000", ratios=ratios)
    t_draw = time.perf_counter() - t0
    t0 = time.perf_counter()
    res2 = algo.run(objs, insps, seed="bench", period="2026-12", scope="000000", ratios=ratios, rules={"local": False})
    t_any = time.perf_counter() - t0
    rng = random.Random(2)
    t0 = time.perf_counter()
    for cat in ratios:
        group = [o for o in objs if o.category == cat]
        for _o in rng.sample(group, algo.quota(ratios[cat], len(group))):
            rng.sample(insps, 2)
    t_base = time.perf_counter() - t0
    print(f"draw ecohub-draw-v1, {len(objs)} objects, {len(insps)} inspectors, {len(res)} drawn (local rule): "
          f"{t_draw * 1000:.0f} ms")
    print(f"  same without the locality rule ({len(res2)} drawn):                                {t_any * 1000:.0f} ms")
    print(f"  baseline random.sample, same counts, no avoidance (not reproducible):          {t_base * 1000:.0f} ms")


if __name__ == "__main__":
    main()
