"""Integrity and keys (issue 19): ``ecohub data verify`` (the raw-observation batch chain), ``ecohub keys
generate|rotate|show`` (the platform's SM2 keys), ``ecohub verify-signature FILE SIG``, ``ecohub crypto
rotate-key`` (SM4 personal data). ``ecohub audit verify`` is with the other audit commands (``api_cmds``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from ecohub.cli.common import DatabaseUrl, console, err_console, fail, open_store, print_json

data_app = typer.Typer(help="Raw data integrity (the SM3 chain over the writer's batches).", no_args_is_help=True)


keys_app = typer.Typer(help="The platform's SM2 signing keys (GB/T 32918).", no_args_is_help=True)
crypto_app = typer.Typer(help="SM4 encryption of personal data at rest.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
    app.add_typer(keys_app, name="keys")
    app.add_typer(crypto_app, name="crypto")
    app.command("verify-signature")(verify_signature)


def _platform():
    from ecohub.config import Settings
    from ecohub.crypto.keyfile import PlatformKeys

    settings = Settings.from_env()
    assert settings.keys_dir is not None  # filled by Settings
    return PlatformKeys(settings.keys_dir)


def sign_beside(path: Path) -> Path | None:
    """Write ``PATH.sig`` (detached SM2 signature by the platform key) beside an exported file; None without a
    platform key."""
    from ecohub.crypto.keyfile import sign_bytes

    signer = _platform().signer()
    if signer is None:
        return None
    sig = path.with_name(path.name + ".sig")
    sig.write_text(sign_bytes(path.read_bytes(), *signer), encoding="utf-8")
    return sig


def _audit_keys(command: str, kid: str, database_url: str | None) -> None:
    from ecohub.cli.common import audit

    try:
        store = open_store(database_url)
    except typer.Exit:
        return  # no database (a key folder only): the key files are the record
    audit(store, command, "permission", f"sm2_key:{kid}", {"key_id": kid})


def _new_key(command: str, must_exist: bool, database_url: str | None) -> None:
    keys = _platform()
    old = keys.current_id()
    if must_exist and old is None:
        fail("no platform key yet: ecohub keys generate")
    if not must_exist and old is not None:
        fail(f"a platform key exists ({old}): ecohub keys rotate makes a new one")
    kid = keys.generate()
    _audit_keys(command, kid, database_url)
    console.print(f"platform SM2 key {kid} in {keys.folder / 'sm2'}"
                  + (f" (retired {old}: its public key stays for verification)" if old else ""), highlight=False)


@keys_app.command("generate")
def keys_generate(database_url: DatabaseUrl = None) -> None:
    """Generate the platform's first SM2 key pair (private key file mode 0600)."""
    _new_key("keys generate", False, database_url)


@keys_app.command("rotate")
def keys_rotate(database_url: DatabaseUrl = None) -> None:
    """A new SM2 signing key; the old public keys are kept so that earlier signatures still verify."""
    _new_key("keys rotate", True, database_url)


@keys_app.command("show")
def keys_show(json_out: Annotated[bool, typer.Option("--json")] = False,
              pem: Annotated[bool, typer.Option("--pem", help="Print the current public key as PEM.")] = False) -> None:
    """The platform's public keys (the current one first); published at GET /api/v1/keys/platform."""
    keys = _platform().public_keys()
    if pem:
        if not keys or not keys[0]["current"]:
            fail("no platform key yet: ecohub keys generate")
        typer.echo(keys[0]["pem"], nl=False)
        return
    if json_out:
        print_json({"keys": [{k: v for k, v in x.items() if k != "pem"} for x in keys]})
        return
    if not keys:
        console.print("no platform key yet: ecohub keys generate")
    for k in keys:
        console.print(f"{'*' if k['current'] else ' '} {k['key_id']}  {k['created']}  {k['public_hex']}", highlight=False)


def verify_signature(
    file: Annotated[Path, typer.Argument(help="The signed file.", exists=True, dir_okay=False)],
    sig: Annotated[Path, typer.Argument(help="Its detached signature: FILE.sig (JSON) or a bare SM2 signature "
                                             "(DER, or its base64, as the API's X-Signature header).",
                                        exists=True, dir_okay=False)],
    key: Annotated[str | None, typer.Option(help="The signer's public key: hex (04||x||y) or a PEM file; "
                                                 "default the platform key the .sig names.")] = None,
) -> None:
    """Check a detached SM2 signature (exit code 1 when the file or the signature was changed)."""
    import base64
    import binascii

    from ecohub.crypto import sm2
    from ecohub.crypto.keyfile import SignatureFileError, verify_detached

    pub = None
    if key is not None:
        try:
            pub = sm2.public_from_pem(Path(key).read_text(encoding="ascii")) if Path(key).is_file() \
                else sm2.normalise_public(key)
        except (ValueError, OSError) as e:
            fail(f"--key: {e}")
    data, raw = file.read_bytes(), sig.read_bytes()
    if raw.lstrip().startswith(b"{"):
        try:
            ok, what = verify_detached(data, raw.decode("utf-8"), {k["key_id"]: k["public_hex"] for k in
                                                                   _platform().public_keys()}, pub)
        except SignatureFileError as e:
            fail(f"{sig}: {e}")
    else:
        if pub is None:
            fail(f"{sig} is a bare signature: give the signer's public key with --key")
        try:
            der = base64.b64decode(raw.strip(), validate=True)
        except (binascii.Error, ValueError):
            der = raw
        ok = sm2.verify(pub, data, der)
        what = "the given key" if ok else "the signature does not verify with the given key"
    if ok:
        console.print(f"signature OK: {file} signed by {what}", highlight=False)
        return
    err_console.print(f"[bold red]signature FAILED[/]: {file}: {what}", highlight=False)
    raise typer.Exit(1)


def _since(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        d = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--since {text!r}: not an ISO date/time (2026-12-01 or 2026-12-01T08:00:00+08:00)")
    return int((d if d.tzinfo else d.replace(tzinfo=UTC)).timestamp())


@data_app.command("verify")
def data_verify(since: Annotated[str | None, typer.Option(help="Only batches received at or after this time "
                                                          "(ISO; UTC unless it has an offset).")] = None,
                json_out: Annotated[bool, typer.Option("--json")] = False, database_url: DatabaseUrl = None) -> None:
    """Recompute every batch's count and SM3 from the raw observations and check the chain; name the first
    broken batch (exit code 1 when something was changed or deleted)."""
    from ecohub.store.batch_chain import verify_store

    store = open_store(database_url)
    rep = verify_store(store, _since(since))
    if json_out:
        print_json(rep.as_dict())
    elif rep.ok:
        console.print(f"raw data intact: {rep.batches} batches, {rep.rows} rows checked; {rep.unchained_rows} rows "
                      "from before the chain", highlight=False)
    else:
        b = rep.broken or {}
        err_console.print(f"[bold red]raw data changed[/]: source {b.get('source')} batch seq {b.get('seq')} "
                          f"(received_at {b.get('received_at')}): {b.get('reason')}", highlight=False)
        for p in rep.problems[1:]:
            err_console.print(f"  also source {p['source']} seq {p['seq']}: {p['reason']}", highlight=False)
    if not rep.ok:
        raise typer.Exit(1)


@crypto_app.command("rotate-key")
def crypto_rotate_key(
    reencrypt_only: Annotated[bool, typer.Option("--reencrypt-only", help="Add no key: re-encrypt under the ring's "
                                                 "current key (after putting a new key last in ECOHUB_PII_KEY).")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a new SM4 key for personal data (the key file; the first one when there is none) and re-encrypt every
    complainant phone and address not under it — plaintext rows included; old keys stay in the ring."""
    from ecohub.cli.common import audit
    from ecohub.store.personal import rotate

    store = open_store(database_url)
    try:
        out = rotate(store, new_key=not reencrypt_only)
    except ValueError as e:
        fail(str(e))
    audit(store, "crypto rotate-key", "permission", f"sm4_key:{out['key_id']}",
          {"rows": out["rows"], "values": out["values"], "reencrypt_only": reencrypt_only})
    console.print(f"SM4 key {out['key_id']}: {out['values']} values in {out['rows']} rows (re-)encrypted"
                  + (f"; key ring {out['key_file']}" if out["key_file"] else ""), highlight=False)
