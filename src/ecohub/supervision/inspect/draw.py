"""The random draw of 双随机一公开 — random objects, random inspectors — as a pure, fully specified algorithm, so that
anyone holding the recorded inputs and seed can re-run it (``ecohub inspect draw verify``) and get the same result
on any machine, Python version or database.

Algorithm ``ecohub-draw-v1``:

1. **Random stream.** Block *i* is ``SHA-256(UTF-8("ecohub-draw-v1|" + seed + "|" + period + "|" + scope) ||
   i as 8-byte big-endian)``; the stream is the concatenation of blocks, read as unsigned 64-bit big-endian words.
   ``below(n)`` draws a word ``w`` and rejects it while ``w ≥ 2**64 − (2**64 mod n)`` (no modulo bias), then
   answers ``w mod n``. (Python's ``random`` module is not used: its sampling functions are not specified across
   versions.)
2. **Objects.** The active objects are sorted by category, then USCC. Per category in sorted order:
   ``k = ceil(ratio × count)`` (0 when the ratio is 0, at most ``count``), chosen by a partial Fisher–Yates
   shuffle: for ``j = 0 … k−1``: ``r = j + below(count − j)``; swap items ``j`` and ``r``; item ``j`` is drawn.
3. **Inspectors.** For each drawn object in the order drawn: the eligible inspectors — active, sorted by code,
   not linked to the enterprise (avoidance, always), and when the rule ``local`` is on, of the enterprise's city
   (first four digits of the region code) — and two of them by the same partial Fisher–Yates. Fewer than two
   eligible: the draw fails, naming the enterprise (nothing is saved).

The result (list of ``{enterprise, category, inspectors}``) is hashed over its canonical JSON (sorted keys,
no spaces, UTF-8) — ``result_sha256``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from ecohub.domain.errors import InputError

ALGORITHM = "ecohub-draw-v1"
#: default share of each category drawn per period — a deployment sets its own (UNCONFIRMED national figures,
#: docs/enforcement.md)
DEFAULT_RATIOS = {"key": 0.25, "general": 0.05, "special": 0.5}
DEFAULT_RULES = {"local": True}


@dataclass(frozen=True)
class Obj:
    uscc: str
    category: str
    region_code: str


@dataclass(frozen=True)
class Inspector:
    code: str
    region_code: str
    linked: tuple[str, ...] = ()  # USCCs the inspector must not inspect
    qualifications: tuple[str, ...] = field(default_factory=tuple)


class Stream:
    """The SHA-256 counter-mode stream of step 1."""

    def __init__(self, seed: str, period: str, scope: str):
        self._key = f"{ALGORITHM}|{seed}|{period}|{scope}".encode()
        self._block = 0
        self._buf = b""

    def word(self) -> int:
        if len(self._buf) < 8:
            self._buf += hashlib.sha256(self._key + self._block.to_bytes(8, "big")).digest()
            self._block += 1
        w, self._buf = int.from_bytes(self._buf[:8], "big"), self._buf[8:]
        return w

    def below(self, n: int) -> int:
        if n <= 0:
            raise ValueError("n must be positive")
        limit = 2**64 - (2**64 % n)
        while True:
            w = self.word()
            if w < limit:
                return w % n


def pick(stream: Stream, items: list, k: int) -> list:
    """Partial Fisher–Yates: ``k`` distinct items of ``items`` (a copy is shuffled)."""
    a = list(items)
    for j in range(k):
        r = j + stream.below(len(a) - j)
        a[j], a[r] = a[r], a[j]
    return a[:k]


def quota(ratio: float, count: int) -> int:
    if ratio <= 0 or count == 0:
        return 0
    return min(count, math.ceil(round(ratio * count, 9)))


def check_ratios(ratios: dict[str, float]) -> dict[str, float]:
    out = {}
    for cat, r in ratios.items():
        try:
            v = float(r)
        except (TypeError, ValueError):
            raise InputError(f"ratio[{cat}]", r, "not a number") from None
        if not 0 <= v <= 1:
            raise InputError(f"ratio[{cat}]", r, "must lie between 0 and 1")
        out[cat] = v
    return out


def canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256(obj) -> str:
    return hashlib.sha256(canonical(obj)).hexdigest()


def run(objects: Sequence[Obj], inspectors: Sequence[Inspector], *, seed: str, period: str, scope: str,
        ratios: dict[str, float], rules: dict | None = None) -> list[dict]:
    """The draw (module doc). Deterministic in its arguments."""
    if not str(seed).strip():
        raise InputError("seed", seed, "a seed is required (it is recorded and published)")
    rules = {**DEFAULT_RULES, **(rules or {})}
    ratios = check_ratios(ratios)
    unknown = sorted({o.category for o in objects} - set(ratios))
    if unknown:
        raise InputError("ratios", unknown, "no ratio for categories " + ", ".join(unknown))
    stream = Stream(str(seed), period, scope)
    ordered = sorted(objects, key=lambda o: (o.category, o.uscc))
    pool = sorted(inspectors, key=lambda i: i.code)
    out: list[dict] = []
    for cat in sorted({o.category for o in ordered}):
        group = [o for o in ordered if o.category == cat]
        for o in pick(stream, group, quota(ratios[cat], len(group))):
            eligible = [i for i in pool if o.uscc not in i.linked
                        and (not rules.get("local") or i.region_code[:4] == o.region_code[:4])]
            if len(eligible) < 2:
                raise InputError("inspectors", o.uscc, f"fewer than two eligible inspectors for enterprise {o.uscc} "
                                 f"(avoidance and {'local ' if rules.get('local') else ''}rules): the draw is refused")
            out.append({"enterprise": o.uscc, "category": cat,
                        "inspectors": [i.code for i in pick(stream, eligible, 2)]})
    return out
