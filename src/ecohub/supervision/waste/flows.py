"""Waste flows for the map: the manifests the caller may see, aggregated per generator → receiver (with the
transporters that carried them), and the position of every enterprise in them.

**Positions.** An enterprise has no coordinates of its own: its position is the mean of its registered sites'
positions (WGS-84; outlets, stations), else the centroid of its administrative region (county, city or province
— the region table's point), marked ``position: "sites"`` or ``"region"`` so the map can say which. An enterprise
with neither is listed without a position (the map leaves it out and says so).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from ecohub.store.db import Store
from ecohub.store.queries import Scope
from ecohub.store.schema import enterprise, region, site
from ecohub.store.schema_waste import manifest
from ecohub.supervision.waste.manifest import _visible, state_condition


def manifest_flows(store: Store, scope: Scope, *, state: str | None = None, limit: int = 20_000) -> dict:
    """{nodes: [{uscc, name, region_code, lon, lat, position, generates, receives}], flows: [{generator, receiver,
    manifests, tonnes, received_t, codes, categories, transporters, states, cross_region}], manifests}.
    ``state``: one of the manifest states or ``open`` (not closed or cancelled); default every state."""
    q = select(manifest.c.generator_id, manifest.c.receiver_id, manifest.c.code, manifest.c.quantity_t,
               manifest.c.received_quantity_t, manifest.c.transporter, manifest.c.state, manifest.c.cross_region
               ).order_by(manifest.c.id).limit(limit)
    for cond in (state_condition(state), _visible(scope)):
        if cond is not None:
            q = q.where(cond)
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
        ids = sorted({r.generator_id for r in rows} | {r.receiver_id for r in rows})
        ents = {r.id: r for r in conn.execute(
            select(enterprise.c.id, enterprise.c.uscc, enterprise.c.name, enterprise.c.region_code,
                   region.c.lon, region.c.lat)
            .select_from(enterprise.join(region, region.c.code == enterprise.c.region_code, isouter=True))
            .where(enterprise.c.id.in_(ids or [-1])))}
        at_sites = {r.enterprise_id: (r.lon, r.lat) for r in conn.execute(
            select(site.c.enterprise_id, func.avg(site.c.lon).label("lon"), func.avg(site.c.lat).label("lat"))
            .where(site.c.enterprise_id.in_(ids or [-1])).group_by(site.c.enterprise_id))}
    flows: dict[tuple[int, int], dict] = {}
    roles: dict[int, set[str]] = defaultdict(set)
    for r in rows:
        f = flows.setdefault((r.generator_id, r.receiver_id), {
            "generator": ents[r.generator_id].uscc, "receiver": ents[r.receiver_id].uscc, "manifests": 0,
            "tonnes": 0.0, "received_t": 0.0, "codes": set(), "categories": set(), "transporters": set(),
            "states": defaultdict(int), "cross_region": False})
        f["manifests"] += 1
        f["tonnes"] += float(r.quantity_t)
        f["received_t"] += float(r.received_quantity_t or 0.0)
        f["codes"].add(r.code)
        f["categories"].add("HW" + r.code[-2:])
        if r.transporter:
            f["transporters"].add(r.transporter)
        f["states"][r.state] += 1
        f["cross_region"] |= bool(r.cross_region)
        roles[r.generator_id].add("generator")
        roles[r.receiver_id].add("receiver")
    nodes = []
    for i in ids:
        e = ents[i]
        lon, lat, pos = (*at_sites[i], "sites") if i in at_sites and at_sites[i][0] is not None else (
            e.lon, e.lat, "region" if e.lon is not None else None)
        nodes.append({"uscc": e.uscc, "name": e.name, "region_code": e.region_code,
                      "lon": None if lon is None else round(float(lon), 6),
                      "lat": None if lat is None else round(float(lat), 6), "position": pos,
                      "generates": "generator" in roles[i], "receives": "receiver" in roles[i]})
    out = []
    for f in flows.values():
        out.append({**f, "tonnes": round(f["tonnes"], 6), "received_t": round(f["received_t"], 6),
                    "codes": sorted(f["codes"]), "categories": sorted(f["categories"]),
                    "transporters": sorted(f["transporters"]), "states": dict(f["states"])})
    out.sort(key=lambda f: (-f["tonnes"], f["generator"], f["receiver"]))
    return {"nodes": nodes, "flows": out, "manifests": len(rows)}
