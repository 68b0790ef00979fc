"""Watermarks in values survive re-ordering, spreadsheets, format changes; masking hides personal data."""

from __future__ import annotations

import csv
import io
import json
import random
import secrets

import pytest

from ecohub.catalog import masking
from ecohub.catalog import watermark as W


def _rows(key: bytes, n: int = 200, seed: int = 1) -> list[dict]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        p = rnd.choice(["pm25", "pm10", "co", "so2"])
        v = round(rnd.uniform(0, 300), 0) if p != "co" else round(rnd.uniform(0.2, 3), 1)
        rows.append({"site": f"S{i % 7}", "parameter": p, "interval": "hour",
                     "time": f"2026-01-{1 + i // 24:02d}T{i % 24:02d}:00:00+08:00",
                     "value": W.mark(v, W.DECIMALS[p], key), "flag": "N", "source": "demo", "orig": v})
    return rows


def test_mark_stays_within_published_precision():
    key = secrets.token_bytes(32)
    for v, d in ((35.0, 0), (0.0, 0), (1.3, 1), (0.061, 3), (-2.0, 0), (7.74, 2)):
        m = W.mark(v, d, key)
        assert round(m, d) == pytest.approx(v) and abs(m - v) < 0.5 * 10 ** -d
        if v == 0:
            assert m >= 0  # no negative concentrations
    assert W.mark(None, 0, key) is None


def _keys(true_key: bytes, n_other: int = 50):
    ks = [(i, secrets.token_bytes(32), None) for i in range(1, n_other + 1)]
    ks.insert(17, (999, true_key, None))
    return ks


def test_identify_after_reordering_and_subsetting():
    key = secrets.token_bytes(32)
    rows = _rows(key)
    random.Random(5).shuffle(rows)
    v = W.identify_rows([{k: r[k] for k in ("value", "parameter", "time")} for r in rows[:30]], _keys(key))
    assert v.identified and v.export_id == 999 and v.score > 0.95 and v.runner_up < 0.3


def test_identify_after_a_spreadsheet_round_trip(tmp_path):
    """Written to .xlsx (numbers as numbers), read back, saved as CSV with other headers and column order."""
    from openpyxl import Workbook, load_workbook

    key = secrets.token_bytes(32)
    rows = _rows(key)
    wb = Workbook()
    ws = wb.active
    ws.append(["time", "站点", "参数", "数值", "标记"])
    for r in reversed(rows):
        ws.append([r["time"], r["site"], r["parameter"], float(r["value"]), r["flag"]])
    p = tmp_path / "leak.xlsx"
    wb.save(p)
    back = list(load_workbook(p).active.iter_rows(values_only=True))
    out = io.StringIO()
    w = csv.writer(out)
    for row in back:
        w.writerow([row[3], row[0], row[1]])  # only value, time, site survive; header renamed
    csv_path = tmp_path / "leak.csv"
    csv_path.write_text(out.getvalue(), encoding="gb18030")
    table = W.read_table(csv_path)
    v = W.identify_rows(table, _keys(key))
    assert v.identified and v.export_id == 999, v
    v2 = W.identify_rows(W.read_table(p), _keys(key))
    assert v2.identified and v2.export_id == 999


def test_identify_json_and_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    key = secrets.token_bytes(32)
    rows = _rows(key, 60)
    (tmp_path / "a.json").write_text(json.dumps([{k: r[k] for k in ("parameter", "value")} for r in rows]))
    pq.write_table(pa.table({"parameter": [r["parameter"] for r in rows], "value": [r["value"] for r in rows]}),
                   tmp_path / "a.parquet")
    for f in ("a.json", "a.parquet"):
        v = W.identify_rows(W.read_table(tmp_path / f), _keys(key))
        assert v.export_id == 999, f


def test_unmarked_or_rounded_files_are_not_attributed():
    key = secrets.token_bytes(32)
    rows = _rows(key)
    plain = [{"parameter": r["parameter"], "value": r["orig"]} for r in rows]
    assert not W.identify_rows(plain, _keys(key)).identified
    rounded = [{"parameter": r["parameter"], "value": round(r["value"], W.DECIMALS[r["parameter"]])} for r in rows]
    assert not W.identify_rows(rounded, _keys(key)).identified  # a documented limit
    few = rows[:5]
    assert not W.identify_rows(few, _keys(key)).identified  # too few values to be sure


def test_two_recipients_are_told_apart():
    k1, k2 = secrets.token_bytes(32), secrets.token_bytes(32)
    keys = [(1, k1, None), (2, k2, None)]
    assert W.identify_rows(_rows(k1), keys).export_id == 1
    assert W.identify_rows(_rows(k2), keys).export_id == 2


@pytest.mark.parametrize("policy,value,expected", [
    ("phone", "13812345678", "138****5678"), ("phone", "0311-87654321", "****4321"),
    ("id_card", "130102199001011234", "1301**********1234"), ("name", "张三丰", "张**"),
    ("email", "zhang@example.com", "z****@example.com"), ("address", "石家庄市长安区中山东路1号", "石家庄市长安区***"),
    ("hide", "anything", ""),
])
def test_masking(policy, value, expected):
    assert masking.mask(value, policy) == expected
    assert masking.mask(None, policy) is None
