"""Package arrows point one way (the project's architecture map, "Packages" and "Where the acting half goes"):
a module may import its own package, the packages its package depends on, and theirs — never a package
above it. The allowed order is :data:`DEPENDS`, written once here; a new package fails this test until it is
placed in it. Every ``import`` counts, also those inside functions (a late import is still an arrow)."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "ecohub"

#: package → the packages it may import directly (their own dependencies come with them). A dotted name is a
#: sub-package with its own place (``supervision.permits``); it may also use its parent package's modules.
DEPENDS: dict[str, tuple[str, ...]] = {
    "standards": (),
    "crypto": (),  # SM2/SM3/SM4 primitives and key files; pure, so everything may use it
    "protocols": ("crypto",),  # HJ 212-2025 SM4: the one block cipher in ecohub.crypto.sm4
    "config": (),
    "data": (),  # shipped reference and demo data, and readers of those files
    "domain": ("standards",),
    "logs": ("config",),  # log format and the request/connection ids of log lines
    "store": ("domain", "config", "crypto", "logs"),  # audit and raw-data hash chains (SM3), encrypted fields
    "ingest": ("protocols", "domain", "store", "data"),
    "quality": ("standards", "store"),
    "analytics": ("standards", "store"),
    "catalog": ("store",),
    "bus": ("store", "ingest"),  # publish/consume around the ingest writer (its Committer, payloads)
    "lake": ("store", "analytics", "quality", "supervision.permits"),  # the pure statistics it runs on Spark
    "alerts": ("store", "quality", "analytics"),
    "forecast": ("standards", "store", "analytics"),
    "supervision": ("store", "alerts"),
    "supervision.permits": ("store", "quality", "alerts"),
    "supervision.waste": ("store", "quality", "alerts"),
    "supervision.inspect": ("store", "alerts", "supervision.permits"),
    "supervision.cases": ("store", "alerts", "supervision.permits"),
    "supervision.credit": ("store", "alerts", "supervision.permits"),
    "supervision.complaints": ("store", "alerts", "supervision.permits"),
    "emergency": ("standards", "store", "alerts"),
    "exchange": ("protocols", "store", "catalog", "crypto", "ingest"),  # incoming batches: the ingest writer
    "reports": ("analytics", "supervision", "supervision.permits", "supervision.waste", "supervision.inspect",
                "supervision.cases", "supervision.credit", "supervision.complaints"),
    "api": ("ingest", "alerts", "forecast", "supervision", "supervision.permits", "supervision.waste",
            "supervision.inspect", "supervision.cases", "supervision.credit", "supervision.complaints",
            "emergency", "reports", "catalog", "bus", "lake", "exchange", "crypto"),
    "web": ("api",),
    "demo": ("web",),
    "cli": ("web", "demo"),
}


def _parent(key: str) -> str | None:
    return key.rsplit(".", 1)[0] if "." in key else None


@cache
def allowed(key: str) -> frozenset[str]:
    """``key`` and everything below it in :data:`DEPENDS` (transitively)."""
    out = {key}
    direct = list(DEPENDS[key])
    if _parent(key):
        direct.append(_parent(key))
    for d in direct:
        out |= allowed(d)
    return frozenset(out)


def package_of(module: str) -> str | None:
    """The :data:`DEPENDS` key of ``ecohub.a.b.c`` (the longest that matches), ``""`` for ``ecohub`` itself,
    None for a package the map does not know."""
    parts = module.split(".")[1:]
    if not parts:
        return ""
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in DEPENDS:
            return key
    return None


def imports_of(path: Path, module: str) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    pkg_parts = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg_parts[: len(pkg_parts) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.append((node.lineno, name))
    return [(line, n) for line, n in out if n == "ecohub" or n.startswith("ecohub.")]


def modules() -> list[tuple[Path, str]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out.append((path, ".".join(parts)))
    return out


def violations() -> list[str]:
    bad = []
    for path, module in modules():
        src = package_of(module)
        if src is None:
            bad.append(f"{module}: package not placed in DEPENDS (tests/test_architecture.py)")
            continue
        for line, target in imports_of(path, module):
            dst = package_of(target)
            if dst == "" or src == "" or dst == src:
                continue  # ``from ecohub import __version__``; the package's own modules
            if dst is None or dst not in allowed(src):
                bad.append(f"{path.relative_to(SRC.parent)}:{line}: {src} imports {target} ({dst or 'unknown'})")
    return bad


def test_no_arrow_points_back_up():
    assert violations() == []


def test_the_order_itself_has_no_cycle_and_names_only_known_packages():
    for key, deps in DEPENDS.items():
        for d in deps:
            assert d in DEPENDS, f"{key} depends on unknown {d}"
            assert key not in allowed(d), f"cycle: {key} ↔ {d}"


def test_the_check_sees_an_upward_import(tmp_path):
    """The checker itself: an import of ``api`` from ``store``, of ``ingest`` from ``alerts``, a relative one and
    one inside a function are all found; an import from below is not."""
    pkg = tmp_path / "ecohub"
    (pkg / "store").mkdir(parents=True)
    f = pkg / "store" / "x.py"
    f.write_text("from ecohub.domain import kinds\nimport ecohub.api.http\n"
                 "def g():\n    from ecohub.ingest.quarantine import QuarantineSink\n"
                 "from ..alerts import lifecycle\n", encoding="utf-8")
    found = [(line, package_of(t)) for line, t in imports_of(f, "ecohub.store.x")]
    assert found == [(1, "domain"), (2, "api"), (5, "alerts"), (4, "ingest")]
    assert [p for _, p in found if p not in allowed("store")] == ["api", "alerts", "ingest"]
    assert "ingest" not in allowed("alerts") and "store" in allowed("alerts")
    assert package_of("ecohub.supervision.permits.register") == "supervision.permits"
    assert "supervision" in allowed("supervision.permits")
    assert "supervision.cases" not in allowed("supervision.permits")


#: Where requests are answered and pages assembled: no SQL here — only calls of service functions.
NO_SQL = ("api/routers/", "api/app.py", "web/")


def absolute_imports(path: Path) -> list[tuple[int, str]]:
    """Every absolute import of a file (any package), as (line, module)."""
    out = []
    for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(n, ast.Import):
            out += [(n.lineno, a.name) for a in n.names]
        elif isinstance(n, ast.ImportFrom) and not n.level:
            out.append((n.lineno, n.module or ""))
    return out


def test_no_sql_in_routers_or_page_handlers():
    """Routers, the app factory and the web modules import neither SQLAlchemy nor a table: what they need is a
    service function of a domain package (taking the store and the caller's scope)."""
    bad = []
    for path, _module in modules():
        rel = path.relative_to(SRC).as_posix()
        if not rel.startswith(NO_SQL):
            continue
        for line, target in absolute_imports(path):
            if target.split(".")[0] == "sqlalchemy" or target.startswith("ecohub.store.schema"):
                bad.append(f"{rel}:{line}: imports {target}")
    assert bad == []
