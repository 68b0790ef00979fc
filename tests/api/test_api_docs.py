"""/docs and /redoc work offline (issue 10, item 2): vendored Swagger UI and ReDoc, no CDN, the pages' CSP."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from ecohub.api.app import create_app
from ecohub.api.docs import PAGE_CSP, STATIC
from ecohub.api.identity import AuthConfig


@pytest.fixture
def client(sqlite_store):
    return TestClient(create_app(sqlite_store, auth=AuthConfig(secret="d" * 48)))


@pytest.mark.parametrize("path,bundle", [("/docs", "swagger-ui/swagger-ui-bundle.js"),
                                         ("/redoc", "redoc/redoc.standalone.js")])
def test_docs_pages_load_only_our_own_assets(client, path, bundle):
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"] == PAGE_CSP
    urls = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert urls and all(u.startswith("/docs/assets/") for u in urls), urls
    assert "cdn" not in r.text and "http" not in r.text
    assert "<script>" not in r.text  # no inline script (the CSP would refuse it)
    assert f"/docs/assets/vendor/{bundle}" in urls
    for u in urls:
        a = client.get(u, headers={"Accept-Encoding": "gzip"})
        assert a.status_code == 200 and len(a.content) > 100, u
        assert client.get(u, headers={"If-None-Match": a.headers["etag"]}).status_code == 304


def test_vendored_versions_and_checksums_match_the_lock():
    import hashlib
    from pathlib import Path

    versions = json.loads((STATIC / "vendor" / "VERSIONS.json").read_text())
    lock = json.loads((Path(__file__).resolve().parents[2] / "web" / "package-lock.json").read_text())
    assert {v["package"] for v in versions.values()} == {"swagger-ui-dist", "redoc"}
    for name, v in versions.items():
        assert v["version"] == lock["packages"][f"node_modules/{v['package']}"]["version"]
        assert hashlib.sha256((STATIC / "vendor" / name).read_bytes()).hexdigest() == v["sha256"]


def test_docs_csp_is_the_web_pages_csp(monkeypatch):
    from ecohub.web.pages import _csp, tile_config

    monkeypatch.delenv("ECOHUB_TILE_URL", raising=False)
    assert PAGE_CSP == _csp(tile_config())


def test_only_vendored_files_are_served(client):
    for bad in ("../docs.py", "vendor/../../docs.py", "vendor/VERSIONS.json", "%2e%2e/app.py", "nothing.js"):
        assert client.get(f"/docs/assets/{bad}").status_code == 404
