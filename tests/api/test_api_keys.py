"""The platform's SM2 public keys are published (GET /api/v1/keys/platform) and catalogue exports carry a
detached SM2 signature of the body (X-Signature*) that verifies with the published key — and not after a
changed byte."""

from __future__ import annotations

import base64

from ecohub.crypto import sm2
from ecohub.crypto.keyfile import PlatformKeys

FROM, TO = "2026-01-11T00:00", "2026-01-13T00:00"


def test_keys_published_and_exports_signed(world, tmp_path):
    world.app.state.settings.keys_dir = tmp_path
    empty = world.get("anonymous", "/api/v1/keys/platform")
    assert empty.status_code == 200 and empty.json() == {"current": None, "keys": []}
    spec = {"code": "open", "title": "t", "description": "d", "owner_department": "监测处",
            "update_frequency": "hourly", "sharing_level": "unconditional", "open_level": "open",
            "source": {"type": "observations", "kinds": ["air_station"]}}
    ds = world.post("admin", "/api/v1/datasets", json=spec).json()["id"]
    url = f"/api/v1/datasets/{ds}/export?format=csv&from={FROM}&to={TO}"
    assert "X-Signature" not in world.get("anonymous", url).headers  # no key: no signature
    keys = PlatformKeys(tmp_path)
    first = keys.generate()
    second = keys.generate()  # rotated: the first stays published
    pub = world.get("anonymous", "/api/v1/keys/platform").json()
    assert pub["current"] == second and [k["key_id"] for k in pub["keys"]] == [second, first]
    assert all("PRIVATE" not in k["pem"] for k in pub["keys"])
    r = world.get("anonymous", url)
    assert r.status_code == 200 and r.headers["X-Signature-Key-Id"] == second
    sig = base64.b64decode(r.headers["X-Signature"])
    key = pub["keys"][0]["public_hex"]
    assert sm2.verify(key, r.content, sig)
    changed = bytearray(r.content)
    changed[len(changed) // 2] ^= 1
    assert not sm2.verify(key, bytes(changed), sig)
