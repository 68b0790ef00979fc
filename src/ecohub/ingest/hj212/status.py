"""Device state for the operator's status page: per registered HJ 212 device visible to the caller, its
site, edition, decoding profile, last online/offline and the deviations from the standard it showed lately
(``device_event`` rows of kind ``deviation``, written by the gateway — :mod:`.session`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from ecohub.store.db import Store
from ecohub.store.queries import Scope, current_scope
from ecohub.store.schema import device, device_event, site

__all__ = ["device_status"]

HIDDEN_ROLES = frozenset({"public"})  # the public sees no device (MNs are no open data)


def device_status(store: Store, scope: Scope | None = None, *, hours: float = 24.0, limit: int = 200,
                  now: datetime | None = None) -> list[dict[str, Any]]:
    """Devices visible to ``scope`` (default: the caller's), those with deviations in the last ``hours``
    first (most packets first), then by MN; at most ``limit``. Each: ``mn``, ``site``, ``site_name``,
    ``protocol``, ``dialect`` (``lenient``/``strict``), ``sm4_variant``, ``online`` (last online/offline
    event is *online*), ``last_seen`` (UTC), ``deviations``: ``[{code, count, field, value, message,
    last}]`` (``count``: packets with it in the window, as recorded — at most hourly per device and code,
    and when the device goes offline)."""
    scope = scope or current_scope()
    if scope.role in HIDDEN_ROLES:
        return []
    now = now or datetime.now(UTC)
    since = now - timedelta(hours=hours)
    q = scope.apply(select(device.c.id, device.c.mn, device.c.protocol, device.c.dialect, device.c.sm4_variant,
                           site.c.code, site.c.name)
                    .select_from(device.join(site, site.c.id == device.c.site_id)))
    with store.engine.connect() as conn:
        devs = {r.id: r for r in conn.execute(q)}
        if not devs:
            return []
        ids = list(devs)
        dev_rows: list[Any] = []
        seen: dict[int, tuple[datetime, str]] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            dev_rows += conn.execute(
                select(device_event.c.device_id, device_event.c.payload, device_event.c.time,
                       device_event.c.received_at)
                .where(device_event.c.kind == "deviation", device_event.c.device_id.in_(chunk),
                       device_event.c.received_at >= since)).all()
            last_q = (select(device_event.c.device_id, device_event.c.kind,
                           func.max(device_event.c.received_at).label("at"))
                    .where(device_event.c.kind.in_(("online", "offline")), device_event.c.device_id.in_(chunk))
                    .group_by(device_event.c.device_id, device_event.c.kind))
            for r in conn.execute(last_q):
                prev = seen.get(r.device_id)
                if prev is None or r.at > prev[0]:
                    seen[r.device_id] = (r.at, r.kind)
    deviations: dict[int, dict[str, dict[str, Any]]] = {}
    for device_id, payload, t, received in dev_rows:
        p = payload if isinstance(payload, dict) else {}
        code = str(p.get("code") or "?")
        d = deviations.setdefault(device_id, {}).setdefault(
            code, {"code": code, "count": 0, "field": None, "value": None, "message": "", "last": None})
        d["count"] += int(p.get("count") or 0)
        at = t or received
        if d["last"] is None or at >= d["last"]:
            d.update(field=p.get("field"), value=p.get("value"), message=p.get("message") or "", last=at)
    out = []
    for did, r in devs.items():
        ds = sorted(deviations.get(did, {}).values(), key=lambda d: -d["count"])
        last = seen.get(did)
        out.append({"mn": r.mn, "site": r.code, "site_name": r.name, "protocol": r.protocol,
                    "dialect": r.dialect or "lenient", "sm4_variant": r.sm4_variant,
                    "online": bool(last and last[1] == "online"), "last_seen": last[0] if last else None,
                    "deviations": ds})
    out.sort(key=lambda d: (-sum(x["count"] for x in d["deviations"]), d["mn"]))
    return out[:limit]
