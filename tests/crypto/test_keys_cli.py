"""``ecohub keys generate|rotate|show``, signed exports (FILE.sig beside ``ecohub export -o FILE``) and
``ecohub verify-signature``: a changed byte, another key or a bare signature without a key are each refused."""

from __future__ import annotations

import base64
import json
import stat

import pytest
from typer.testing import CliRunner

from ecohub.cli.main import app
from ecohub.crypto import sm2


@pytest.fixture
def cli(tmp_path, monkeypatch, sqlite_template):
    (tmp_path / "ecohub.db").write_bytes(sqlite_template.read_bytes())
    monkeypatch.setenv("ECOHUB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ECOHUB_DATABASE_URL", raising=False)
    monkeypatch.delenv("ECOHUB_KEYS_DIR", raising=False)
    runner = CliRunner()

    def run(*args, code=0):
        r = runner.invoke(app, [str(a) for a in args])
        assert r.exit_code == code, r.output
        return r

    return run


def test_generate_rotate_show(cli, tmp_path):
    assert "no platform key" in cli("keys", "show").output
    cli("keys", "rotate", code=2)
    first = cli("keys", "generate").output.split()[3]
    cli("keys", "generate", code=2)  # one exists: rotate instead
    out = cli("keys", "rotate").output
    second = out.split()[3]
    assert first in out and second != first
    shown = json.loads(cli("keys", "show", "--json").output)["keys"]
    assert [k["key_id"] for k in shown] == [second, first] and shown[0]["current"]
    folder = tmp_path / "keys" / "sm2"
    assert not (folder / f"{first}.key").exists() and (folder / f"{first}.pub").exists()
    assert stat.S_IMODE((folder / f"{second}.key").stat().st_mode) == 0o600
    assert sm2.public_from_pem(cli("keys", "show", "--pem").output) == shown[0]["public_hex"]


def test_signed_export_and_verify(cli, tmp_path):
    cli("keys", "generate")
    out = tmp_path / "obs.csv"
    r = cli("export", "-o", out)
    sig = tmp_path / "obs.csv.sig"
    assert sig.exists() and "signed" in r.output
    assert "signature OK" in cli("verify-signature", out, sig).output
    data = bytearray(out.read_bytes())
    data[-2] ^= 1
    out.write_bytes(bytes(data))
    r = cli("verify-signature", out, sig, code=1)
    assert "changed" in r.output
    cli("keys", "rotate")  # the old key still verifies what it signed
    out.write_bytes(bytes(data[:-2] + bytes([data[-2] ^ 1]) + data[-1:]))
    assert "signature OK" in cli("verify-signature", out, sig).output


def test_bare_signature_and_key_option(cli, tmp_path):
    priv, pub = sm2.generate_keypair()
    f = tmp_path / "f.bin"
    f.write_bytes(b"exchange batch")
    s = tmp_path / "f.sig"
    s.write_text(base64.b64encode(sm2.sign(priv, b"exchange batch")).decode())
    r = cli("verify-signature", f, s, code=2)
    assert "--key" in r.output
    assert "signature OK" in cli("verify-signature", f, s, "--key", pub).output
    pem = tmp_path / "pub.pem"
    pem.write_text(sm2.public_to_pem(pub))
    assert "signature OK" in cli("verify-signature", f, s, "--key", pem).output
    other = sm2.generate_keypair()[1]
    cli("verify-signature", f, s, "--key", other, code=1)
    cli("verify-signature", f, s, "--key", "nonsense", code=2)
    (tmp_path / "bad.sig").write_text('{"algorithm": "RSA", "key_id": "x", "signature": ""}')
    assert "only SM2-with-SM3" in cli("verify-signature", f, tmp_path / "bad.sig", code=2).output
