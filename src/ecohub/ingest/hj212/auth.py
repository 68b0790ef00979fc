"""Device authentication for the HJ 212 gateway: MN must be a registered device, PW must verify against its
argon2 hash (``device.password_hash``).

argon2 costs ~0.16 s of CPU per verification (argon2-cffi defaults) — far too much per packet — so a
successful verification is cached in memory for ``ttl`` seconds under the key ``(password_hash, PW)``:
the result depends only on that pair, so devices that share one stored hash (the simulator registers all
its MNs with one hash) cost one verification together. Failed verifications are cached too (for
``negative_ttl``), so a device retrying with a wrong PW cannot make the gateway burn CPU, and unknown MNs
are remembered for ``negative_ttl`` so that a stranger cannot make it query the database per packet.

:meth:`DeviceDirectory.check_cached` answers from the caches only (no I/O: safe on the event loop) and
returns ``None`` when a database read or an argon2 verification is needed; :meth:`DeviceDirectory.check`
does that work and must run in a worker thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import select

from ecohub.protocols.hj212 import Dialect, Sm4Variant, dialect_named
from ecohub.store.db import Store
from ecohub.store.registry import verify_device_password
from ecohub.store.schema import device, site

__all__ = ["AuthResult", "DeviceDirectory", "DeviceInfo", "device_dialect"]

log = logging.getLogger("ecohub.gateway")


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """A registered HJ 212 device and the site it reports for."""

    id: int
    mn: str
    site_id: int
    site_code: str
    site_kind: str
    protocol: str  # "2005" | "2017" | "2025"
    password_hash: str
    sm4_key: str | None
    dialect: Dialect  # how to decode this device's packets (SM4 key for HJ 212-2025)


@dataclass(frozen=True, slots=True)
class AuthResult:
    ok: bool
    device: DeviceInfo | None
    reason: str | None = None  # "unknown_mn" | "wrong_pw"

    @property
    def message(self) -> str:
        if self.ok:
            return "ok"
        if self.reason == "unknown_mn":
            return "auth: MN is not a registered device"
        return "auth: wrong PW for this MN"


def device_dialect(mn: str, profile: str | None, sm4_key: str | None, sm4_variant: str | None) -> Dialect:
    """How to decode a device's packets: its profile (``device.dialect``: ``None``/``"lenient"`` — deviations
    accepted with a warning — or ``"strict"``), its SM4 key and SM4 variant. A profile or variant that is not
    understood is logged and the lenient default used for that part (the device keeps working)."""
    changes: dict[str, object] = {}
    if sm4_key:
        changes["sm4_key"] = sm4_key
    if sm4_variant:
        try:
            changes["sm4_variant"] = Sm4Variant.parse(sm4_variant)
        except ValueError as e:
            log.error("device %s: sm4_variant %r ignored: %s", mn, sm4_variant, e)
    try:
        base = dialect_named(profile, **changes)
    except ValueError as e:
        log.error("device %s: dialect %r ignored: %s", mn, profile, e)
        base = dialect_named(None, **changes)
    return base.with_(name=f"device {mn} ({profile or 'lenient'})")


class DeviceDirectory:
    """Registered devices and verified passwords, cached. Thread-safe."""

    def __init__(self, store: Store, *, ttl: float = 600.0, negative_ttl: float = 30.0,
                 max_entries: int = 200_000, clock=time.monotonic):
        self.store = store
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.max_entries = max_entries
        self.clock = clock
        self._lock = threading.Lock()
        self._devices: dict[str, tuple[DeviceInfo | None, float]] = {}
        self._verified: OrderedDict[tuple[str, str], tuple[bool, float]] = OrderedDict()
        self.verifications = 0  # argon2 verifications done (for tests and stats)
        self.lookups = 0  # database reads of device rows

    # --- loading ----------------------------------------------------------------------------------------------
    def _query(self):
        return (select(device.c.id, device.c.mn, device.c.site_id, device.c.protocol, device.c.password_hash,
                       device.c.sm4_key, device.c.dialect, device.c.sm4_variant, site.c.code.label("site_code"),
                       site.c.kind.label("site_kind"))
                .select_from(device.join(site, site.c.id == device.c.site_id)))

    @staticmethod
    def _info(r) -> DeviceInfo:
        dialect = device_dialect(r.mn, r.dialect, r.sm4_key, r.sm4_variant)
        return DeviceInfo(int(r.id), r.mn, int(r.site_id), r.site_code, r.site_kind, r.protocol, r.password_hash,
                          r.sm4_key, dialect)

    def preload(self) -> int:
        """Load every registered device (one query); returns how many."""
        now = self.clock()
        with self.store.engine.connect() as conn:
            rows = [self._info(r) for r in conn.execute(self._query())]
        with self._lock:
            for info in rows:
                self._devices[info.mn] = (info, now)
        self.lookups += 1
        return len(rows)

    def lookup(self, mn: str) -> DeviceInfo | None:
        """The device of ``mn`` (cached for ``ttl``; unknown MNs for ``negative_ttl``). Blocking."""
        now = self.clock()
        hit = self._devices.get(mn)
        if hit is not None and now - hit[1] < (self.ttl if hit[0] is not None else self.negative_ttl):
            return hit[0]
        with self.store.engine.connect() as conn:
            r = conn.execute(self._query().where(device.c.mn == mn)).first()
        self.lookups += 1
        info = self._info(r) if r is not None else None
        with self._lock:
            if len(self._devices) >= self.max_entries:
                self._devices.clear()
            self._devices[mn] = (info, now)
        return info

    def cached_device(self, mn: str) -> DeviceInfo | None:
        hit = self._devices.get(mn)
        return hit[0] if hit is not None else None

    def forget(self, mn: str | None = None) -> None:
        """Drop cached entries (one MN, or everything): the next packet reloads and re-verifies."""
        with self._lock:
            if mn is None:
                self._devices.clear()
                self._verified.clear()
            else:
                self._devices.pop(mn, None)

    # --- checking ---------------------------------------------------------------------------------------------
    def check_cached(self, mn: str, pw: str) -> AuthResult | None:
        """Answer from the caches only; ``None`` when :meth:`check` must run (in a thread)."""
        now = self.clock()
        hit = self._devices.get(mn)
        if hit is None:
            return None
        info, at = hit
        if info is None:
            return AuthResult(False, None, "unknown_mn") if now - at < self.negative_ttl else None
        if now - at >= self.ttl:
            return None
        v = self._verified.get((info.password_hash, pw))
        if v is None:
            return None
        ok, vat = v
        if now - vat >= (self.ttl if ok else self.negative_ttl):
            return None
        return AuthResult(True, info) if ok else AuthResult(False, info, "wrong_pw")

    def check(self, mn: str, pw: str) -> AuthResult:
        """Authenticate (MN, PW): database read and argon2 verification when not cached. Blocking."""
        cached = self.check_cached(mn, pw)
        if cached is not None:
            return cached
        info = self.lookup(mn)
        if info is None:
            return AuthResult(False, None, "unknown_mn")
        key = (info.password_hash, pw)
        now = self.clock()
        with self._lock:
            v = self._verified.get(key)
        if v is not None and now - v[1] < (self.ttl if v[0] else self.negative_ttl):
            ok = v[0]
        else:
            ok = verify_device_password(info.password_hash, pw)
            self.verifications += 1
            with self._lock:
                self._verified[key] = (ok, self.clock())
                self._verified.move_to_end(key)
                while len(self._verified) > self.max_entries:
                    self._verified.popitem(last=False)
        return AuthResult(True, info) if ok else AuthResult(False, info, "wrong_pw")
