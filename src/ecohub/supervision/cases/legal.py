"""The legal-basis table: violation code → the article violated, the penalty article, the fine range, whether a
correction order and daily continuous penalties apply. Shipped as ``supervision/data/legal_basis.json``; a
deployment may load its own file of the same shape (:func:`load`). Unknown codes are refused by name."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from ecohub.domain.errors import InputError

DEFAULT = Path(__file__).resolve().parents[1] / "data" / "legal_basis.json"
REQUIRED = ("name", "violates", "penalty_basis", "fine_min_yuan", "fine_max_yuan")


@cache
def load(path: str | None = None) -> dict[str, dict]:
    p = Path(path) if path else DEFAULT
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError("legal_basis_file", str(p), f"not a readable JSON table: {e}") from None
    table = raw.get("violations") if isinstance(raw, dict) else None
    if not isinstance(table, dict) or not table:
        raise InputError("legal_basis_file", str(p), "needs an object 'violations' with at least one entry")
    for code, row in table.items():
        missing = [k for k in REQUIRED if k not in row]
        if missing:
            raise InputError(f"legal_basis[{code}]", code, "missing " + ", ".join(missing))
        if row["fine_min_yuan"] > row["fine_max_yuan"]:
            raise InputError(f"legal_basis[{code}].fine_min_yuan", row["fine_min_yuan"], "above fine_max_yuan")
    return table


def basis(code: str, path: str | None = None) -> dict:
    table = load(path)
    if code not in table:
        raise InputError("violation", code, "unknown legal basis; known: " + ", ".join(sorted(table)))
    return {"code": code, **table[code]}
