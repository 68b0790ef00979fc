"""The audit log as an SM3 hash chain: intact after writes (also concurrent ones, both backends); a changed,
deleted or smuggled-in row is named by verify; periodic anchors; the genesis anchor covers older rows."""

from __future__ import annotations

import threading

from sqlalchemy import func, insert, select, text
from typer.testing import CliRunner

from ecohub.store import audit_chain
from ecohub.store.audit import record, record_now
from ecohub.store.schema_identity import audit_log
from ecohub.store.tx import write_tx


def tamper(store, sql: str, **params) -> None:
    """Change the table as someone with database access would: around the append-only triggers."""
    with store.engine.begin() as c:
        if store.is_postgres:
            c.execute(text("SET LOCAL session_replication_role = replica"))  # triggers off (superuser)
        else:
            for t in ("audit_log_no_update", "audit_log_no_delete", "observation_no_delete", "observation_immutable"):
                c.execute(text(f"DROP TRIGGER IF EXISTS {t}"))
        c.execute(text(sql), params)


def ids(store) -> list[int]:
    with store.engine.connect() as c:
        return list(c.scalars(select(audit_log.c.id).where(audit_log.c.chain_seq.is_not(None)).order_by(audit_log.c.id)))


def test_genesis_and_intact_chain(store):
    for i in range(5):
        record_now(store, "write", actor=f"u{i}", target=f"site:{i}", detail={"b": [1, 2.5, "张"], "a": None})
    rep = audit_chain.verify_store(store)
    assert rep.ok, rep.as_dict()
    assert rep.rows == 6 and rep.head_seq == 5  # genesis (seq 0) + 5
    with store.engine.connect() as c:
        g = c.execute(select(audit_log).where(audit_log.c.chain_seq == 0)).mappings().one()
    assert g["action"] == "chain_anchor" and g["detail"]["genesis"] is True


def test_changed_row_is_named(store):
    for i in range(4):
        record_now(store, "write", actor=f"u{i}", target=f"t{i}")
    victim = ids(store)[2]
    tamper(store, "UPDATE audit_log SET actor = 'someone-else' WHERE id = :i", i=victim)
    rep = audit_chain.verify_store(store)
    assert not rep.ok and rep.broken_id == victim and "changed" in rep.reason


def test_deleted_row_is_named_by_its_successor(store):
    for i in range(4):
        record_now(store, "write", actor=f"u{i}")
    chained = ids(store)
    tamper(store, "DELETE FROM audit_log WHERE id = :i", i=chained[2])
    rep = audit_chain.verify_store(store)
    assert not rep.ok and rep.broken_id == chained[3] and "missing" in rep.reason


def test_row_inserted_around_the_writer_is_named(store):
    record_now(store, "write", actor="a")
    with store.engine.begin() as c:
        c.execute(insert(audit_log).values(at=1_700_000_000, action="write", actor="smuggled"))
        new_id = c.scalar(select(func.max(audit_log.c.id)))
    rep = audit_chain.verify_store(store)
    assert not rep.ok and rep.broken_id == new_id and "not in the chain" in rep.reason


def test_changed_legacy_row_is_caught_by_the_genesis_anchor(sqlite_store):
    store = sqlite_store
    tamper(store, "DELETE FROM audit_log")  # start again: two rows before the chain, then the genesis anchor
    with store.engine.begin() as c:
        c.execute(insert(audit_log).values(at=1_700_000_000, action="login", actor="old1"))
        c.execute(insert(audit_log).values(at=1_700_000_001, action="login", actor="old2"))
    record_now(store, "write", actor="new")  # no head: the genesis anchor is written first
    rep = audit_chain.verify_store(store)
    assert rep.ok and rep.legacy_rows == 2
    tamper(store, "UPDATE audit_log SET actor = 'x' WHERE actor = 'old2'")
    rep = audit_chain.verify_store(store)
    assert not rep.ok and "before the chain were changed" in rep.reason


def test_anchor_rows(store, monkeypatch):
    monkeypatch.setattr(audit_chain, "ANCHOR_EVERY", 3)
    for i in range(7):
        record_now(store, "write", actor=f"u{i}")
    rep = audit_chain.verify_store(store)
    assert rep.ok and rep.anchors >= 3  # genesis + anchors after seq 2 and 5 (each anchor takes a seq)
    with store.engine.connect() as c:
        anchors = c.execute(select(audit_log.c.chain_seq, audit_log.c.detail).where(
            audit_log.c.action == "chain_anchor", audit_log.c.chain_seq > 0)).all()
    assert all(d["head_seq"] == s - 1 for s, d in anchors)


def test_concurrent_writers_keep_one_chain(store):
    n_threads, per = 4, 15
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(per):
                with write_tx(store) as conn:
                    record(conn, "write", actor=f"w{k}", target=f"{k}:{i}")
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    rep = audit_chain.verify_store(store)
    assert rep.ok, rep.as_dict()
    assert rep.head_seq == n_threads * per  # one line: no fork, no gap


def test_cli_audit_verify(tmp_path, monkeypatch, sqlite_template):
    from ecohub.cli.main import app
    from ecohub.store.db import Store

    db = tmp_path / "ecohub.db"
    db.write_bytes(sqlite_template.read_bytes())
    monkeypatch.setenv("ECOHUB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ECOHUB_DATABASE_URL", raising=False)
    store = Store.open(f"sqlite:///{db}")
    for i in range(3):
        record_now(store, "write", actor=f"u{i}")
    r = CliRunner().invoke(app, ["audit", "verify"])
    assert r.exit_code == 0 and "intact" in r.output
    victim = ids(store)[1]
    tamper(store, "UPDATE audit_log SET target = 'x' WHERE id = :i", i=victim)
    r = CliRunner().invoke(app, ["audit", "verify"])
    assert r.exit_code == 1 and f"row id {victim}" in r.output
    r = CliRunner().invoke(app, ["audit", "verify", "--json"])
    assert r.exit_code == 1 and f'"broken_id": {victim}' in r.output


def test_signed_anchors_catch_a_consistent_rewrite(store, monkeypatch, tmp_path):
    """Someone with database access changes a row and recomputes every hash after it: the plain chain is
    consistent again, but the platform's SM2 signature on the next anchor no longer verifies."""
    from ecohub.crypto.keyfile import PlatformKeys

    monkeypatch.setenv("ECOHUB_KEYS_DIR", str(tmp_path / "keys"))
    PlatformKeys(tmp_path / "keys").generate()
    monkeypatch.setattr(audit_chain, "ANCHOR_EVERY", 4)
    for i in range(9):
        record_now(store, "write", actor=f"u{i}")
    rep = audit_chain.verify_store(store)
    assert rep.ok and rep.signed_anchors == 3, rep.as_dict()  # after seq 3, 7 and 11
    # the rewrite: change seq 1, then re-link everything after it
    with store.engine.connect() as c:
        rows = [dict(r) for r in c.execute(select(audit_chain._COLS[0].table).where(
            audit_log.c.chain_seq.is_not(None)).order_by(audit_log.c.id)).mappings()]
    rows[1]["actor"] = "nobody"
    prev = rows[0]["row_hash"]
    for r in rows[1:]:
        r["prev_hash"], r["row_hash"] = prev, audit_chain.row_hash(prev, r["chain_seq"], r)
        prev = r["row_hash"]
        tamper(store, "UPDATE audit_log SET actor = :a, prev_hash = :p, row_hash = :h WHERE id = :i",
               a=r["actor"], p=r["prev_hash"], h=r["row_hash"], i=r["id"])
    anchor_id = next(r["id"] for r in rows if r["action"] == "chain_anchor" and r["chain_seq"] > 0)
    rep = audit_chain.verify_store(store)
    assert not rep.ok and rep.broken_id == anchor_id and "signature does not verify" in rep.reason
    monkeypatch.setenv("ECOHUB_KEYS_DIR", str(tmp_path / "nokeys"))  # the key is unknown where verify runs
    assert "not a platform key" in audit_chain.verify_store(store).reason
