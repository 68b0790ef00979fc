"""Identity: sign-in, token expiry, refresh rotation and reuse, revocation, lock-out, password policy, API keys,
role changes taking effect at once."""

from __future__ import annotations

import jwt
import pytest

from conftest import PASSWORD, SECRET
from ecohub.api.identity import check_password_policy
from ecohub.domain.errors import InputError


def test_token_endpoint_contract(world):
    r = world.login("officer_sjz")
    assert r.status_code == 200
    body = r.json()
    assert {"access_token", "refresh_token", "token_type"} <= set(body) and body["token_type"] == "bearer"
    claims = jwt.decode(body["access_token"], SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims["exp"] - claims["iat"] == 15 * 60 and claims["typ"] == "access"
    refresh = jwt.decode(body["refresh_token"], SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert refresh["exp"] - refresh["iat"] == 7 * 86400
    me = world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"}).json()
    assert me["name"] == "officer_sjz" and me["role"] == "officer" and me["region_code"] == "130100"


def test_wrong_password_and_unknown_user_look_the_same(world):
    a = world.login("officer_sjz", "Wrong-password-1")
    b = world.login("nobody_here", "Wrong-password-1")
    assert a.status_code == b.status_code == 401
    assert a.json()["detail"] == b.json()["detail"]
    assert a.headers["content-type"].startswith("application/problem+json")


def test_access_token_expires_after_15_minutes(world):
    token = world.login("ent1").json()["access_token"]
    h = {"Authorization": f"Bearer {token}"}
    assert world.client.get("/api/v1/me", headers=h).status_code == 200
    world.clock[0] += 14 * 60
    assert world.client.get("/api/v1/me", headers=h).status_code == 200
    world.clock[0] += 61
    r = world.client.get("/api/v1/me", headers=h)
    assert r.status_code == 401 and "expired" in r.json()["detail"]


def test_forged_and_wrong_type_tokens_are_refused(world):
    good = world.login("ent1").json()
    claims = jwt.decode(good["access_token"], SECRET, algorithms=["HS256"])
    forged = jwt.encode({**claims, "role": "admin"}, "another-secret-" + "y" * 40, algorithm="HS256")
    none_alg = jwt.encode(claims, None, algorithm="none")
    for t in (forged, none_alg, good["refresh_token"]):
        assert world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {t}"}).status_code == 401


def test_refresh_rotates_and_reuse_revokes_the_session(world):
    first = world.login("partner").json()
    r = world.client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    h2 = {"Authorization": f"Bearer {second['access_token']}"}
    assert world.client.get("/api/v1/me", headers=h2).status_code == 200
    # the spent refresh token presented again: theft assumed, the whole session ends
    again = world.client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert again.status_code == 401
    assert world.client.get("/api/v1/me", headers=h2).status_code == 401
    assert world.client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}).status_code == 401


def test_refresh_token_expires_after_7_days(world):
    t = world.login("partner").json()
    world.clock[0] += 7 * 86400 + 1
    assert world.client.post("/api/v1/auth/refresh", json={"refresh_token": t["refresh_token"]}).status_code == 401


def test_logout_revokes_access_and_refresh(world):
    t = world.login("analyst").json()
    h = {"Authorization": f"Bearer {t['access_token']}"}
    assert world.client.post("/api/v1/auth/logout", headers=h).status_code == 204
    assert world.client.get("/api/v1/me", headers=h).status_code == 401
    assert world.client.post("/api/v1/auth/refresh", json={"refresh_token": t["refresh_token"]}).status_code == 401


def test_lockout_after_five_failures_for_fifteen_minutes(world):
    for _ in range(5):
        assert world.login("ent2", "Bad-password-00").status_code == 401
    assert world.login("ent2").status_code == 401  # right password, but locked
    world.clock[0] += 14 * 60
    assert world.login("ent2").status_code == 401
    world.clock[0] += 61
    assert world.login("ent2").status_code == 200
    # a success resets the count: four failures do not lock
    for _ in range(4):
        world.login("ent2", "Bad-password-00")
    assert world.login("ent2").status_code == 200


def test_admin_unlock_and_disable(world):
    for _ in range(5):
        world.login("public_user", "Bad-password-00")
    assert world.login("public_user").status_code == 401
    r = world.client.patch("/api/v1/users/public_user", json={"unlock": True}, headers=world.headers("admin"))
    assert r.status_code == 200, r.text
    t = world.login("public_user").json()["access_token"]
    r = world.client.patch("/api/v1/users/public_user", json={"disabled": True}, headers=world.headers("admin"))
    assert r.status_code == 200 and r.json()["disabled_at"]
    assert world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {t}"}).status_code == 401
    assert world.login("public_user").status_code == 401


def test_role_change_applies_to_the_next_request(world):
    h = world.headers("officer_sjz")
    assert world.client.get("/api/v1/sites/OUT-SJZ-E1", headers=h).status_code == 200
    r = world.client.patch("/api/v1/users/officer_sjz", json={"region": "130200"}, headers=world.headers("admin"))
    assert r.status_code == 200 and r.json()["region_code"] == "130200"
    assert world.client.get("/api/v1/sites/OUT-SJZ-E1", headers=h).status_code == 404
    assert world.client.get("/api/v1/sites/OUT-TS-E2", headers=h).status_code == 200


@pytest.mark.parametrize("pw,name,ok", [
    ("Correct-Horse-9", "alice", True), ("短密码Ab1", "alice", False), ("alllowercaseletters", "alice", False),
    ("aaaaaaaaaaaa", "alice", False), ("Alice-2024-secret", "alice", False), ("长城长城长城长城长城1", "bob", True),
    ("x" * 300 + "A1", "bob", False),
])
def test_password_policy(pw, name, ok):
    if ok:
        check_password_policy(pw, name)
    else:
        with pytest.raises(InputError, match="password"):
            check_password_policy(pw, name)


def test_user_creation_checks_role_fields(world):
    h = world.headers("admin")
    bad = [{"name": "o1", "password": PASSWORD, "role": "officer"},  # officer without region
           {"name": "o2", "password": PASSWORD, "role": "officer", "region": "130000"},  # province: analyst
           {"name": "e1", "password": PASSWORD, "role": "enterprise"},
           {"name": "x1", "password": PASSWORD, "role": "root"},
           {"name": "weak", "password": "weak", "role": "public"}]
    for b in bad:
        r = world.client.post("/api/v1/users", json=b, headers=h)
        assert r.status_code == 400, (b, r.text)
    r = world.client.post("/api/v1/users", json={"name": "county_officer", "password": PASSWORD, "role": "officer",
                                                 "region": "130110"}, headers=h)
    assert r.status_code == 201
    t = world.login("county_officer").json()["access_token"]
    hh = {"Authorization": f"Bearer {t}"}
    assert world.client.get("/api/v1/sites/OUT-SJZ-E1", headers=hh).status_code == 200  # its county
    assert world.client.get("/api/v1/sites/AIR-TS-CLOSED", headers=hh).status_code == 404


def test_api_keys_expire_and_revoke(world):
    h = world.headers("ent1")
    r = world.client.post("/api/v1/apikeys", json={"name": "scada", "scopes": ["read"], "days": 1}, headers=h)
    assert r.status_code == 201
    key = r.json()["key"]
    kh = {"X-API-Key": key}
    assert world.client.get("/api/v1/sites/OUT-SJZ-E1", headers=kh).status_code == 200
    assert world.client.get("/api/v1/sites/OUT-SJZ-E1", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    listed = world.client.get("/api/v1/apikeys", headers=h).json()
    assert [k["prefix"] for k in listed] == [r.json()["prefix"]] and "key_hash" not in listed[0]
    # another user cannot revoke it
    assert world.client.delete(f"/api/v1/apikeys/{r.json()['prefix']}", headers=world.headers("ent2")).status_code == 404
    assert world.client.delete(f"/api/v1/apikeys/{r.json()['prefix']}", headers=h).status_code == 204
    assert world.client.get("/api/v1/sites", headers=kh).status_code == 401
    # only admins give keys the admin scope
    assert world.client.post("/api/v1/apikeys", json={"name": "x", "scopes": ["admin"]}, headers=h).status_code == 403


def test_expired_key_is_refused(world):
    from datetime import UTC, datetime, timedelta

    from ecohub.store.apikeys import create_key

    with world.store.engine.begin() as c:
        key = create_key(c, "old", ["read"], expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert world.client.get("/api/v1/sites", headers={"X-API-Key": key}).status_code == 401


def test_password_change_ends_sessions(world):
    t = world.login("analyst").json()["access_token"]
    h = {"Authorization": f"Bearer {t}"}
    r = world.client.post("/api/v1/me/password", json={"current_password": "nope-Nope-123",
                                                       "new_password": "Another-Pass-77"}, headers=h)
    assert r.status_code == 403
    r = world.client.post("/api/v1/me/password", json={"current_password": PASSWORD,
                                                       "new_password": "Another-Pass-77"}, headers=h)
    assert r.status_code == 204
    assert world.client.get("/api/v1/me", headers=h).status_code == 401
    assert world.login("analyst").status_code == 401 and world.login("analyst", "Another-Pass-77").status_code == 200
