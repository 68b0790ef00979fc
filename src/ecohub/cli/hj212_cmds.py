"""``ecohub hj212 …`` commands: ``parse`` (and room for ``simulate`` and others)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from ecohub.protocols.hj212 import Dialect, HJ212Error, Sm4Variant, decode, decode_segment, dialect_named

__all__ = ["hj212_app", "register", "parse_lines"]


def parse_lines(data: bytes, dialect: Dialect) -> list[dict[str, object]]:
    """One result dict per non-empty line: the decoded packet (with ``"line"``) or
    ``{"error": message, "line": n, "reason": code, "field": name}``."""
    out: list[dict[str, object]] = []
    for n, raw in enumerate(data.split(b"\n"), start=1):
        line = raw[:-1] if raw.endswith(b"\r") else raw
        if not line.strip():
            continue
        try:
            if line.startswith(b"##"):
                obj = decode(line, dialect).to_dict()
            else:  # a bare data segment (no ##, length, CRC): decoded without CRC check
                obj = decode_segment(line, dialect).to_dict()
                obj["framed"] = False
            obj["line"] = n
        except HJ212Error as exc:
            obj = {"error": str(exc), "line": n, "reason": exc.reason, "field": exc.field}
        out.append(obj)
    return out


def hj212_app() -> typer.Typer:
    """The ``hj212`` sub-app (``parse``; other commands are added to it elsewhere)."""
    app = typer.Typer(
        name="hj212",
        help="HJ 212 packets (HJ/T 212-2005, HJ 212-2017, HJ 212-2025): parse, check.",
        no_args_is_help=True,
        add_completion=False,
    )

    @app.callback()
    def _group() -> None:
        """HJ 212 packets (HJ/T 212-2005, HJ 212-2017, HJ 212-2025)."""

    @app.command("parse")
    def parse(
        file: Path = typer.Argument(..., help="File with one packet per line (trailing CRLF optional); '-' reads stdin."),
        as_json: bool = typer.Option(
            False, "--json", help="JSON lines: one object per packet (with \"warnings\": [{code, field, value, message}]) "
                                  "or {\"error\", \"line\", \"reason\", \"field\"}."),
        crc: str = typer.Option("hj212", "--crc", help="CRC check: hj212 | modbus | either | unchecked."),
        sm4_key: str | None = typer.Option(None, "--sm4-key", help="HJ 212-2025 SM4 key (32 hex or 16 characters)."),
        max_length: int = typer.Option(1024, "--max-length", help="Maximum data-segment length."),
        strict: bool = typer.Option(
            False, "--strict",
            help="Reject the deviations the default (lenient) dialect accepts with a warning "
                 "(split bit without PNUM/PNO, ST not 2 characters, short CRC, other SM4 variants …)."),
        sm4_variant: str | None = typer.Option(
            None, "--sm4-variant",
            help="HJ 212-2025 SM4 variant of the device: a preset (standard, standard-plain-length, clist-cipher-crc, "
                 "hex-pkcs7, hex-pkcs7-plain-crc, hex-zero, base64-pkcs7, base64-zero) or form/padding/crc/length. "
                 "Default: the standard's text, other variants detected and reported as warnings."),
    ) -> None:
        """Decode every line of FILE and report each packet (with the deviations accepted, as
        warnings) or why it was rejected."""
        try:
            variant = Sm4Variant.parse(sm4_variant) if sm4_variant else None
            dialect = dialect_named("strict" if strict else "lenient", crc=crc, sm4_key=sm4_key, max_length=max_length,
                                    sm4_variant=variant)
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        try:
            data = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
        except OSError as exc:
            typer.echo(f"error: cannot read {file}: {exc.strerror or exc}", err=True)
            raise typer.Exit(2) from None
        results = parse_lines(data, dialect)
        write = sys.stdout.write
        if as_json:
            for obj in results:
                write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")
        else:
            for obj in results:
                if "error" in obj:
                    write(f"{obj['line']}: REJECTED {obj['reason']}: {obj['error']}\n")
                else:
                    n_factors = len(obj.get("factors", {}))  # type: ignore[arg-type]
                    warns: list[dict[str, str]] = obj.get("warnings") or []  # type: ignore[assignment]
                    note = "".join(f" WARNING {w['code']}: {w['message']}" for w in warns)
                    write(
                        f"{obj['line']}: OK HJ {obj['version']} ST={obj['st']} CN={obj['cn']} MN={obj['mn']}"
                        f" QN={obj['qn']} factors={n_factors}{note}\n"
                    )
            bad = sum(1 for o in results if "error" in o)
            warned = sum(1 for o in results if o.get("warnings"))
            typer.echo(f"{len(results)} packets, {len(results) - bad} ok ({warned} with warnings), {bad} rejected", err=True)

    return app


def register(app: typer.Typer) -> None:
    """Add the ``hj212`` sub-app (``parse``, and ``simulate`` from the gateway commands) to the ``ecohub`` app."""
    from ecohub.cli.gateway_cmds import add_simulate

    sub = hj212_app()
    add_simulate(sub)
    app.add_typer(sub, name="hj212")


def register_parse(app: typer.Typer) -> None:
    """Only ``hj212 parse``: what ``ecohub hj212 parse …`` builds, so it starts without the database stack."""
    app.add_typer(hj212_app(), name="hj212")
