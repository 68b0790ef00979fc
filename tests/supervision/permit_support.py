"""Helpers of the permit-register and emissions tests (a uniquely named module)."""

from __future__ import annotations

import csv
from pathlib import Path

from ecohub.domain.uscc import check_character
from ecohub.store import registry as R


def uscc(body17: str) -> str:
    return body17 + check_character(body17)


ENT = uscc("91130100MA0000001")  # a valid GB 32100 code (check character computed)
ENT2 = uscc("91130200MA0000002")
NUMBER = ENT + "001P"


def make_enterprise(store, *, code: str = ENT, region: str = "130100", outlets=(("GAS1", "gas_outlet"),
                                                                            ("GAS2", "gas_outlet"))) -> None:
    with store.engine.begin() as c:
        R.add_enterprise(c, code, f"示例企业{code[-3:]}", region)
        for i, (s, kind) in enumerate(outlets):
            R.upsert_site(c, R.SiteInput(s, kind, f"{s} 排口", 114.5 + i * 0.01, 38.0, region, code))


def write_dir(path: Path, tables: dict[str, list[list[str]]]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        with open(path / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(rows)
    return path


def write_xlsx(path: Path, tables: dict[str, list[list[str]]]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in tables.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


PERMITS_HEAD = ["number", "enterprise", "category", "industry", "issued_on", "valid_from", "valid_to", "kind"]
OUTLETS_HEAD = ["permit", "outlet_code", "site", "type", "lon", "lat"]
LIMITS_HEAD = ["permit", "outlet", "parameter", "limit", "unit", "period", "converted_o2", "standard"]
TONNAGE_HEAD = ["permit", "parameter", "tonnes", "unit"]


def good_tables(number: str = NUMBER, ent: str = ENT) -> dict[str, list[list[str]]]:
    return {
        "permits": [PERMITS_HEAD, [number, ent, "重点", "火力发电 4411", "2024-01-15", "2024-01-15", "2029-01-14",
                                   "issue"]],
        "outlets": [OUTLETS_HEAD, [number, "DA001", "GAS1", "主要排放口", "114.5", "38.0"],
                    [number, "DA002", "GAS2", "general", "", ""]],
        "limits": [LIMITS_HEAD, [number, "DA001", "a21026", "35000", "µg/m³", "hour", "6", "GB 13223-2011"],
                   [number, "DA001", "nox", "50", "mg/m³", "hour", "6", "GB 13223-2011"],
                   [number, "GAS2", "a21026", "0.035", "g/m³", "hour", "", "GB 13223-2011"]],
        "tonnage": [TONNAGE_HEAD, [number, "so2", "120", "t"], [number, "a21002", "200000", "kg"]],
    }
