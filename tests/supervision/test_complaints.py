"""Complaints (12369-style): validation naming field and value, unguessable tracking codes, the public view
without personal data, region from the point, duplicates within 50 m, the status workflow, scope and masking,
photo checks (type by content, metadata removed). On both backends (``store`` fixture)."""

from __future__ import annotations

import re
import struct
import zlib
from datetime import UTC, datetime, timedelta

import pytest

from ecohub.domain.errors import InputError
from ecohub.store.queries import PUBLIC, SYSTEM, Scope
from ecohub.supervision import complaints as C
from ecohub.supervision import geo

# 石家庄市 新华区 (inside its county polygon) and a point ~30 m east of it
P = (114.4548, 38.0513)
P_30M = (114.4548 + 0.00034, 38.0513)
P_200M = (114.4548 + 0.0023, 38.0513)


def _inp(**kw) -> C.ComplaintInput:
    base = dict(category="air", description="工厂烟囱冒黑烟，持续两个小时以上", lon=P[0], lat=P[1], phone="13812345678")
    base.update(kw)
    return C.ComplaintInput(**base)


def png_bytes(with_text: bool = True) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
    if with_text:
        out += chunk(b"tEXt", b"Comment\x00GPS 38.05 114.45 owner Zhang San")
    return out + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def jpeg_with_exif() -> bytes:
    exif = b"Exif\x00\x00" + b"MM\x00\x2a" + b"GPSLatitude=38.05" * 3
    app1 = b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    com = b"\xff\xfe" + struct.pack(">H", 10) + b"owner123"
    dqt = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + bytes(range(64))
    sos = b"\xff\xda" + struct.pack(">H", 8) + b"\x01\x01\x00\x00\x3f\x00" + b"\x12\x34" * 60 + b"\xff\xd9"
    return b"\xff\xd8" + app0 + app1 + com + dqt + sos


# --- validation -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw, field", [
    ({"category": "smell"}, "category"),
    ({"description": "太臭"}, "description"),
    ({"description": "x" * 2001}, "description"),
    ({"lon": "abc"}, "lon"),
    ({"lon": "nan"}, "lon"),
    ({"lat": 95}, "lat"),
    ({"lon": 200}, "lon"),
    ({"phone": "12345"}, "phone"),
    ({"address": "路" * 201}, "address"),
    ({"photo": b"GIF89a" + b"\x00" * 200}, "photo"),
    ({"photo": b"\xff\xd8\xff" + b"\x00" * (C.MAX_PHOTO_BYTES + 1)}, "photo"),
])
def test_each_bad_field_is_named_with_its_value(kw, field):
    with pytest.raises(InputError) as e:
        C.validate(_inp(**kw))
    assert e.value.field == field
    assert str(e.value).startswith(field)


def test_phone_forms():
    assert C.clean_phone("138 1234 5678") == "13812345678"
    assert C.clean_phone("+86 138-1234-5678") == "13812345678"
    assert C.clean_phone("0311-86012345") == "031186012345"
    assert C.clean_phone("") is None
    assert C.mask_phone("13812345678") == "138****5678"


def test_tracking_codes_are_long_random_and_unambiguous():
    codes = {C.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    for c in list(codes)[:50]:
        assert len(c) == 12 and C.valid_code(c)
        assert not set(c) & set("01OIL")
    assert C.normalize_code("abcd-efgh jkmn") == "ABCDEFGHJKMN"
    assert C.format_code("ABCDEFGHJKMN") == "ABCD-EFGH-JKMN"


def test_photo_metadata_is_removed():
    png = png_bytes()
    clean = C.strip_metadata(png, C.sniff_photo(png))
    assert b"Zhang San" not in clean and b"IDAT" in clean and clean.endswith(struct.pack(">I", zlib.crc32(b"IEND")))
    jpg = jpeg_with_exif()
    assert C.sniff_photo(jpg) == "image/jpeg"
    clean = C.strip_metadata(jpg, "image/jpeg")
    assert b"GPSLatitude" not in clean and b"owner123" not in clean
    assert b"JFIF" in clean and clean.endswith(b"\xff\xd9") and b"\xff\xdb" in clean
    with pytest.raises(InputError) as e:
        C.strip_metadata(b"\xff\xd8\xff\xe1\xff\xff" + b"\x00" * 200, "image/jpeg")
    assert e.value.field == "photo"


# --- region from the point ------------------------------------------------------------------------------
def test_region_from_county_polygon_or_nearest_point(store):
    loc = geo.locate(store, *P)
    assert (loc.code, loc.method) == ("130105", "polygon")  # 新华区, 石家庄市
    bj = geo.locate(store, 116.397, 39.909)  # Beijing: no county polygons shipped → nearest county point
    assert bj.method == "nearest" and bj.code.startswith("11")
    assert geo.locate(store, 0.0, 0.0) is None


# --- submission, public view ----------------------------------------------------------------------------
def test_submit_and_track_without_personal_data(store, tmp_path):
    out = C.submit(store, _inp(photo=png_bytes(), address="中山路 1 号"), tmp_path)
    code = out["tracking_code"]
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{12}", code)
    assert out["region_code"] == "130105" and out["region_method"] == "polygon" and out["photo"] is True
    files = list((tmp_path / "uploads" / "complaints").rglob("*.png"))
    assert len(files) == 1 and b"Zhang San" not in files[0].read_bytes()
    t = C.track(store, code.lower())
    assert t["status"] == "received" and t["region_name"] == "新华区"
    assert [h["status"] for h in t["history"]] == ["received"]
    flat = repr(t)
    for secret in ("13812345678", "5678", "冒黑烟", "中山路", "114.45", "38.05", ".png"):
        assert secret not in flat
    assert "actor" not in t["history"][0]
    assert C.track(store, "ZZZZZZZZZZZZ") is None
    assert C.track(store, "not a code") is None


def test_outside_china_is_refused(store, tmp_path):
    with pytest.raises(InputError) as e:
        C.submit(store, _inp(lon=0.5, lat=0.5), tmp_path)
    assert e.value.field == "location"


def test_nearby_open_complaints_of_the_same_category_are_suggested(store, tmp_path):
    first = C.submit(store, _inp(), tmp_path)
    assert first["possible_duplicates"] == []
    second = C.submit(store, _inp(lon=P_30M[0], lat=P_30M[1]), tmp_path)
    assert len(second["possible_duplicates"]) == 1
    d = second["possible_duplicates"][0]
    assert set(d) == {"category", "status", "submitted_at", "distance_m"} and 20 < d["distance_m"] < 40
    assert C.submit(store, _inp(lon=P_200M[0], lat=P_200M[1]), tmp_path)["possible_duplicates"] == []
    assert C.submit(store, _inp(category="noise"), tmp_path)["possible_duplicates"] == []
    staff = C.get_complaint(store, SYSTEM, second["tracking_code"])
    assert [n["tracking_code"] for n in staff["nearby_open"]] == [first["tracking_code"]]
    assert staff["possible_duplicates"] == [C.get_complaint(store, SYSTEM, first["tracking_code"])["id"]]
    # a closed case is no longer suggested
    C.change_status(store, SYSTEM, first["tracking_code"], "rejected", actor="t", note="重复举报")
    C.change_status(store, SYSTEM, first["tracking_code"], "closed", actor="t")
    assert C.public_nearby(store, P[0], P[1], "air") == [
        {k: v for k, v in n.items() if k in ("category", "status", "submitted_at", "distance_m")}
        for n in C.nearby_open(store, P[0], P[1], "air")]
    assert all(n["status"] in C.OPEN_STATUSES for n in C.nearby_open(store, P[0], P[1], "air"))


# --- workflow, scope, masking ---------------------------------------------------------------------------
def test_status_workflow_with_reasons_and_history(store, tmp_path):
    code = C.submit(store, _inp(), tmp_path)["tracking_code"]
    admin = Scope("admin", name="a1")
    with pytest.raises(InputError) as e:
        C.change_status(store, admin, code, "handled", actor="a1", note="done")
    assert e.value.field == "status" and "accepted, rejected" in str(e.value)
    with pytest.raises(InputError) as e:
        C.change_status(store, admin, code, "rejected", actor="a1")
    assert e.value.field == "note"
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    C.change_status(store, admin, code, "accepted", actor="a1", now=t0)
    with pytest.raises(InputError):
        C.change_status(store, admin, code, "handled", actor="a1", note="  ")
    C.change_status(store, admin, code, "handled", actor="a1", note="现场检查，责令整改", now=t0 + timedelta(days=2))
    C.change_status(store, admin, code, "closed", actor="a1", now=t0 + timedelta(days=3))
    with pytest.raises(InputError):
        C.change_status(store, admin, code, "accepted", actor="a1")
    hist = C.track(store, code)["history"]
    assert [h["status"] for h in hist] == ["received", "accepted", "handled", "closed"]
    assert hist[2]["note"] == "现场检查，责令整改"
    assert [h["actor"] for h in C.get_complaint(store, admin, code)["history"]] == [None, "a1", "a1", "a1"]
    stats = C.statistics(store, admin)
    assert stats["by_status"]["closed"] == 1 and stats["open"] == 0 and stats["total"] == 1
    with pytest.raises(PermissionError):
        C.change_status(store, Scope("analyst"), code, "closed", actor="x")
    with pytest.raises(LookupError):
        C.change_status(store, admin, "ZZZZZZZZZZZZ", "accepted", actor="a1")


def test_scope_and_phone_masking(store, tmp_path):
    sjz = C.submit(store, _inp(), tmp_path)["tracking_code"]  # 石家庄
    ts = C.submit(store, _inp(lon=118.18, lat=39.63, phone="13900001111"), tmp_path)["tracking_code"]  # 唐山
    officer_sjz = Scope("officer", region_code="130100", name="o1")
    assert [c["tracking_code"] for c in C.list_complaints(store, officer_sjz)] == [sjz]
    assert C.get_complaint(store, officer_sjz, ts) is None
    with pytest.raises(LookupError):
        C.change_status(store, officer_sjz, ts, "accepted", actor="o1")
    assert C.list_complaints(store, officer_sjz)[0]["phone"] == "138****5678"  # not accepted: nobody's yet
    C.change_status(store, officer_sjz, sjz, "accepted", actor="o1")
    assert C.list_complaints(store, officer_sjz)[0]["phone"] == "13812345678"  # the handling officer calls back
    colleague = Scope("officer", region_code="130100", name="o9")
    assert C.list_complaints(store, colleague)[0]["phone"] == "138****5678"  # the region's other officers do not
    analyst = C.list_complaints(store, Scope("analyst"))
    assert {c["phone"] for c in analyst} == {"138****5678", "139****1111"}
    assert all(c["phone_masked"] for c in analyst)
    assert {c["tracking_code"] for c in C.list_complaints(store, Scope("admin"))} == {sjz, ts}
    for role in ("enterprise", "partner", "public"):
        with pytest.raises(PermissionError):
            C.list_complaints(store, Scope(role))
    with pytest.raises(PermissionError):
        C.list_complaints(store, PUBLIC)
    with pytest.raises(InputError):
        C.list_complaints(store, SYSTEM, status="nonsense")
