"""HJ 212 forwarding destinations (数据转发目标): add, list, remove, enable/disable, and their status (lag, last
ack, backlog, failures) — the service layer the CLI, the API and the status page call.

The outbox itself is filled by the gateway's writer (:mod:`ecohub.store.forwarding`) and emptied by the
forwarder (:mod:`ecohub.exchange.forwarder`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from ecohub.domain.errors import InputError, NotFound
from ecohub.store.db import Store
from ecohub.store.schema_exchange import forward_destination, forward_outbox
from ecohub.store.tx import write_tx

__all__ = ["EDITIONS", "MODES", "add_destination", "destination_status", "get_destination", "list_destinations",
           "remove_destination", "set_enabled"]

EDITIONS = ("2017", "2025", "2005")
MODES = ("original", "reencode")
_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_MN = re.compile(r"[0-9A-Za-z_.\-]{1,24}")
_PW = re.compile(r"[^\s;=&,]{1,32}")
_CODE = re.compile(r"[A-Za-z0-9]{2,10}")
_HOST = re.compile(r"[A-Za-z0-9.\-:\[\]]{1,255}")


def _check_list(field: str, values: list[str] | None, pattern: re.Pattern[str]) -> list[str] | None:
    if not values:
        return None
    out = []
    for v in values:
        v = v.strip()
        if not pattern.fullmatch(v):
            raise InputError(field, v, f"is not a valid {field[:-1]}")
        if v not in out:
            out.append(v)
    return out


def _check_map(mn_map: dict[str, Any] | None) -> dict[str, dict[str, str]] | None:
    if not mn_map:
        return None
    out: dict[str, dict[str, str]] = {}
    for local, target in mn_map.items():
        if not _MN.fullmatch(local):
            raise InputError("mn_map", local, "local MN must be 1-24 letters/digits")
        if isinstance(target, str):
            target = {"mn": target}
        if not isinstance(target, dict) or not _MN.fullmatch(str(target.get("mn", ""))):
            raise InputError("mn_map", target, f"the remote MN for {local} must be 1-24 letters/digits")
        entry = {"mn": str(target["mn"])}
        if target.get("pw") is not None:
            if not _PW.fullmatch(str(target["pw"])):
                raise InputError("mn_map", target["pw"], f"the remote PW for {local} is not 1-32 printable characters")
            entry["pw"] = str(target["pw"])
        out[local] = entry
    return out


def parse_mn_map(items: list[str] | None) -> dict[str, dict[str, str]] | None:
    """``LOCAL=REMOTE[:PW]`` items (the CLI's ``--map``) → the ``mn_map`` of a destination."""
    if not items:
        return None
    out: dict[str, Any] = {}
    for item in items:
        local, eq, rest = item.partition("=")
        if not eq:
            raise InputError("map", item, "must be LOCAL_MN=REMOTE_MN[:REMOTE_PW]")
        remote, colon, pw = rest.partition(":")
        out[local.strip()] = {"mn": remote.strip(), **({"pw": pw} if colon else {})}
    return _check_map(out)


def add_destination(store: Store, name: str, host: str, port: int, *, edition: str = "2017", mode: str = "original",
                    devices: list[str] | None = None, parameters: list[str] | None = None,
                    mn_map: dict[str, Any] | None = None, pw: str | None = None, ack: bool = True) -> dict[str, Any]:
    """Add a destination. Original mode forwards each packet byte for byte (its own MN/PW/Flag); re-encoded mode
    rebuilds it in ``edition`` with the destination's MN/PW mapping and parameter selection."""
    if not _NAME.fullmatch(name or ""):
        raise InputError("name", name, "must be 1-64 letters, digits, '.', '_' or '-'")
    if not _HOST.fullmatch(host or ""):
        raise InputError("host", host, "is not a host name or address")
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise InputError("port", port, "must be 1-65535")
    if edition not in EDITIONS:
        raise InputError("edition", edition, f"must be one of {', '.join(EDITIONS)}")
    if mode not in MODES:
        raise InputError("mode", mode, f"must be one of {', '.join(MODES)}")
    if mode == "reencode" and edition == "2005":
        raise InputError("edition", edition, "re-encoding writes HJ 212-2017 or 2025 packets (2005: --mode original)")
    params = _check_list("parameters", parameters, _CODE)
    mapping = _check_map(mn_map)
    if mode == "original" and (params or mapping or pw):
        raise InputError("mode", mode, "parameters, an MN/PW mapping or a PW need --mode reencode (an original "
                                       "packet is forwarded byte for byte)")
    if pw is not None and not _PW.fullmatch(pw):
        raise InputError("pw", pw, "is not 1-32 printable characters")
    row = {"name": name, "host": host, "port": port, "edition": edition, "mode": mode,
           "devices": _check_list("devices", devices, _MN), "parameters": params, "mn_map": mapping, "pw": pw,
           "ack": bool(ack), "enabled": True, "created_at": datetime.now(UTC)}
    with write_tx(store) as conn:
        if conn.execute(select(forward_destination.c.id).where(forward_destination.c.name == name)).first():
            raise InputError("name", name, "a destination with this name exists")
        conn.execute(insert(forward_destination).values(**row))
    return get_destination(store, name)


def _row(r: Any) -> dict[str, Any]:
    d = dict(r._mapping)
    return d


def get_destination(store: Store, name: str) -> dict[str, Any]:
    with store.engine.connect() as conn:
        r = conn.execute(select(forward_destination).where(forward_destination.c.name == name)).first()
    if r is None:
        raise NotFound(f"no forwarding destination {name!r}")
    return _row(r)


def list_destinations(store: Store, *, enabled_only: bool = False) -> list[dict[str, Any]]:
    q = select(forward_destination).order_by(forward_destination.c.id)
    if enabled_only:
        q = q.where(forward_destination.c.enabled.is_(True))
    with store.engine.connect() as conn:
        return [_row(r) for r in conn.execute(q)]


def remove_destination(store: Store, name: str) -> int:
    """Remove a destination and its outbox; returns the outbox rows dropped."""
    dest = get_destination(store, name)
    with write_tx(store) as conn:
        n = conn.execute(delete(forward_outbox).where(forward_outbox.c.destination_id == dest["id"])).rowcount
        conn.execute(delete(forward_destination).where(forward_destination.c.id == dest["id"]))
    return int(n or 0)


def set_enabled(store: Store, name: str, enabled: bool) -> dict[str, Any]:
    dest = get_destination(store, name)
    with write_tx(store) as conn:
        conn.execute(update(forward_destination).where(forward_destination.c.id == dest["id"])
                     .values(enabled=enabled))
    return get_destination(store, name)


def destination_status(store: Store, now: datetime | None = None) -> list[dict[str, Any]]:
    """Per destination: backlog (pending packets), failed packets (given up after the attempts), lag (age of the
    oldest pending packet, s), last send and ack, connection/ack failures, totals sent and acknowledged."""
    now = now or datetime.now(UTC)
    o = forward_outbox
    with store.engine.connect() as conn:
        counts = {(r.destination_id, r.status): (int(r.n), r.oldest) for r in conn.execute(
            select(o.c.destination_id, o.c.status, func.count().label("n"), func.min(o.c.created_at).label("oldest"))
            .where(o.c.status != "done").group_by(o.c.destination_id, o.c.status))}
        dests = [_row(r) for r in conn.execute(select(forward_destination).order_by(forward_destination.c.id))]
    out = []
    for d in dests:
        backlog, oldest = counts.get((d["id"], "pending"), (0, None))
        failed, _ = counts.get((d["id"], "failed"), (0, None))
        out.append({
            "name": d["name"], "host": d["host"], "port": d["port"], "edition": d["edition"], "mode": d["mode"],
            "enabled": bool(d["enabled"]), "devices": d["devices"], "backlog": backlog, "failed": failed,
            "lag_seconds": None if oldest is None else round(max((now - oldest).total_seconds(), 0.0), 1),
            "last_ack_at": _iso(d["last_ack_at"]), "last_sent_at": _iso(d["last_sent_at"]),
            "failures": d["failures"], "last_error": d["last_error"], "sent": d["sent"], "acked": d["acked"],
        })
    return out


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).isoformat()


#: what the public status (``/api/v1/status``, the status page, metrics) shows of a destination: no address, no
#: error text (it names hosts)
PUBLIC_FIELDS = ("name", "enabled", "edition", "mode", "backlog", "failed", "lag_seconds", "last_ack_at",
                 "last_sent_at", "failures", "sent", "acked")


def forwarding_summary(store: Store) -> list[dict[str, Any]]:
    """:func:`destination_status` without addresses and error texts; empty when the table is missing."""
    try:
        rows = destination_status(store)
    except Exception:  # noqa: BLE001 - a database without the exchange tables (older schema): nothing to show
        return []
    return [{k: r[k] for k in PUBLIC_FIELDS} for r in rows]
