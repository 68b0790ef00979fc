"""Waste codes of the National Hazardous Waste List (国家危险废物名录) and business licences for them.

A waste code has 8 digits written ``NNN-NNN-NN``: industry source (3, GB/T 4754), sequence (3), category (2, the
``HWxx`` of the list) — 《国家危险废物名录（2025年版）》 第五条(三) (same definition in the 2021 edition). The
shipped table (``data/hw_codes.csv``) is a **subset** (17 codes of the list's several hundred): see
``docs/waste.md`` for its coverage and what was confirmed. A code not in the table is refused with its value.

The 46 categories (``HW01``–``HW40``, ``HW45``–``HW50``) are shipped whole (``data/hw_categories.csv``); a code or
a licence naming another category is refused. The full list can be loaded from a CSV of the official text with
:func:`import_codes` (``ecohub waste codes-import FILE.csv --edition …``): every row checked, all or nothing, the
edition recorded on each row.

A licence (危险废物经营许可证) covers 8-digit codes and/or whole categories (``HW08``) over its validity.
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from ecohub.domain.errors import InputError
from ecohub.store.audit import Origin
from ecohub.store.db import Store
from ecohub.store.schema import enterprise
from ecohub.store.schema_waste import waste_code, waste_licence
from ecohub.store.tx import write_tx

EDITION = "国家危险废物名录（2025年版） subset"
CODE_RE = re.compile(r"^\d{3}-\d{3}-\d{2}$")
CATEGORY_RE = re.compile(r"^HW\d{2}$")


@cache
def shipped_codes() -> tuple[dict, ...]:
    text = resources.files("ecohub.supervision.waste").joinpath("data/hw_codes.csv").read_text(encoding="utf-8")
    rows = tuple(csv.DictReader(text.splitlines()))
    for r in rows:
        assert CODE_RE.match(r["code"]) and r["category"] == "HW" + r["code"][-2:], r
    return rows


@cache
def categories() -> dict[str, str]:
    """``HWxx`` → the category's name (the 46 categories of the list)."""
    text = resources.files("ecohub.supervision.waste").joinpath("data/hw_categories.csv").read_text(encoding="utf-8")
    return {r["category"]: r["name"] for r in csv.DictReader(text.splitlines())}


HAZARDS = ("T", "C", "I", "R", "In")


def _row_error(line: int, field: str, value, reason: str) -> dict:
    return {"line": line, "field": field, "value": value, "reason": reason}


def check_code_rows(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """Checked rows of a code table (columns code, category, industry, description, hazard; line numbers from 2)
    and the errors (line, field, value, reason)."""
    good, errors, seen = [], [], set()
    for i, r in enumerate(rows, start=2):
        raw = (r.get("code") or "").strip()
        try:
            code = normalize_code(raw)
        except InputError as e:
            errors.append(_row_error(i, "code", raw, e.reason))
            continue
        cat = (r.get("category") or "").strip().upper() or "HW" + code[-2:]
        haz = [h.strip() for h in re.split(r"[/,，、]", r.get("hazard") or "") if h.strip()]
        desc = (r.get("description") or "").strip()
        if code in seen:
            errors.append(_row_error(i, "code", raw, "appears twice in the file"))
        elif cat not in categories():
            errors.append(_row_error(i, "category", cat, "not a category of the list (HW01–HW40, HW45–HW50)"))
        elif cat != "HW" + code[-2:]:
            errors.append(_row_error(i, "category", cat, f"the code's last two digits say HW{code[-2:]}"))
        elif not desc:
            errors.append(_row_error(i, "description", desc, "required"))
        elif not haz or any(h not in HAZARDS for h in haz):
            errors.append(_row_error(i, "hazard", r.get("hazard"), "one or more of T, C, I, R, In (e.g. T/I)"))
        else:
            good.append({"code": code, "category": cat, "industry": (r.get("industry") or "").strip(),
                         "description": desc, "hazard": "/".join(haz)})
        seen.add(code)
    return good, errors


def import_codes(store: Store, origin: Origin, path: str, edition: str) -> dict:
    """Load a code table (CSV, UTF-8, header code,category,industry,description,hazard) as ``edition``: new codes
    added, existing ones updated. All or nothing: with any bad row nothing is saved and every error is returned."""
    ed = (edition or "").strip()
    if not ed or len(ed) > 40:
        raise InputError("edition", edition, "required, at most 40 characters (e.g. 国家危险废物名录（2025年版）)")
    try:
        text = open(path, encoding="utf-8-sig").read()  # noqa: PTH123, SIM115
    except (OSError, UnicodeDecodeError) as e:
        raise InputError("file", path, f"cannot be read as UTF-8 CSV: {e}") from None
    reader = csv.DictReader(text.splitlines())
    missing = {"code", "description", "hazard"} - set(reader.fieldnames or [])
    if missing:
        raise InputError("file", path, "missing columns: " + ", ".join(sorted(missing)))
    good, errors = check_code_rows(list(reader))
    if errors:
        return {"saved": 0, "added": 0, "updated": 0, "errors": errors}
    with write_tx(store) as conn:
        ensure_codes(conn)
        have = set(conn.scalars(select(waste_code.c.code)))
        new = [{**g, "edition": ed} for g in good if g["code"] not in have]
        if new:
            conn.execute(insert(waste_code), new)
        for g in good:
            if g["code"] in have:
                conn.execute(update(waste_code).where(waste_code.c.code == g["code"]).values(
                    **{k: v for k, v in g.items() if k != "code"}, edition=ed))
        origin.record(conn, "write", "waste_code", {"change": "codes import", "edition": ed, "added": len(new),
                                                    "updated": len(good) - len(new)})
    return {"saved": len(good), "added": len(new), "updated": len(good) - len(new), "errors": []}


def normalize_code(value: str) -> str:
    """``900-041-49``, ``90004149`` or ``HW49-900-041-49`` → ``900-041-49``; :class:`InputError` otherwise."""
    v = (value or "").strip().upper()
    v = re.sub(r"^HW\d{2}[-\s]*", "", v)
    digits = v.replace("-", "")
    if not (digits.isdigit() and len(digits) == 8):
        raise InputError("code", value, "a waste code has 8 digits (NNN-NNN-NN, 国家危险废物名录)")
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"


def ensure_codes(conn: Connection) -> None:
    """Load the shipped code table into ``waste_code`` when it is empty (idempotent)."""
    if conn.scalar(select(func.count()).select_from(waste_code)):
        return
    conn.execute(insert(waste_code), [{"code": r["code"], "category": r["category"], "industry": r["industry"],
                                       "description": r["description"], "hazard": r["hazard"], "edition": EDITION}
                                      for r in shipped_codes()])


def known_code(conn: Connection, value: str) -> dict:
    """The code's row, or :class:`InputError` naming the code (unknown codes are refused, never stored)."""
    code = normalize_code(value)
    ensure_codes(conn)
    row = conn.execute(select(waste_code).where(waste_code.c.code == code)).mappings().first()
    if row is None:
        raise InputError("code", value, "unknown waste code: not in the shipped table of the national list "
                         "(a subset; see docs/waste.md)")
    return dict(row)


def list_codes(store: Store, category: str | None = None) -> list[dict]:
    with write_tx(store) as conn:
        ensure_codes(conn)
    q = select(waste_code).order_by(waste_code.c.category, waste_code.c.code)
    if category:
        q = q.where(waste_code.c.category == category.strip().upper())
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def enterprise_id(conn: Connection, uscc: str, field: str) -> tuple[int, str]:
    row = conn.execute(select(enterprise.c.id, enterprise.c.region_code).where(
        enterprise.c.uscc == (uscc or "").strip().upper())).first()
    if row is None:
        raise InputError(field, uscc, "unknown enterprise (USCC not in the register)")
    return int(row.id), row.region_code


def add_licence(store: Store, origin: Origin, *, uscc: str, licence_no: str, codes: list[str], valid_from: date,
                valid_to: date) -> dict:
    """Register a business licence: ``codes`` are 8-digit codes or ``HWxx`` categories."""
    if not (licence_no or "").strip():
        raise InputError("licence_no", licence_no, "required")
    if valid_to < valid_from:
        raise InputError("valid_to", valid_to.isoformat(), f"before valid_from {valid_from}")
    out: list[str] = []
    with write_tx(store) as conn:
        eid, _ = enterprise_id(conn, uscc, "enterprise")
        for c in codes:
            c = c.strip().upper()
            if CATEGORY_RE.match(c):
                if c not in categories():
                    raise InputError("codes", c, "not a category of the list (HW01–HW40, HW45–HW50)")
                out.append(c)
            else:
                out.append(known_code(conn, c)["code"])
        if not out:
            raise InputError("codes", codes, "at least one code or HWxx category")
        conn.execute(insert(waste_licence).values(enterprise_id=eid, licence_no=licence_no.strip(), codes=out,
                                                  valid_from=valid_from, valid_to=valid_to,
                                                  created_at=datetime.now(UTC)))
        origin.record(conn, "write", f"waste_licence:{licence_no}", {"change": "licence add", "codes": out})
    return {"licence_no": licence_no.strip(), "enterprise": uscc, "codes": out}


def licensed(conn: Connection, enterprise_id_: int, code: str, on: date) -> bool:
    """Does the enterprise hold a licence valid on ``on`` covering ``code`` (or its category)?"""
    for codes, a, b in conn.execute(select(waste_licence.c.codes, waste_licence.c.valid_from,
                                           waste_licence.c.valid_to).where(
            waste_licence.c.enterprise_id == enterprise_id_)):
        if a <= on <= b and (code in codes or "HW" + code[-2:] in codes):
            return True
    return False
