"""Vendor the front-end libraries from the npm registry into the package (build time, never at page load).

    python tools/vendor_assets.py            # npm ci in web/, then copy into the package

ECharts and Leaflet go to src/ecohub/web/static/vendor/ (the web pages), Swagger UI and ReDoc to
src/ecohub/api/static/vendor/ (the API's /docs and /redoc, which must work without the web and without the
internet). Versions are pinned in web/package.json and web/package-lock.json; the copied files and their SHA-256
are recorded in VERSIONS.json of each destination (served as-is, checked by the tests).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
DEST = ROOT / "src" / "ecohub" / "web" / "static" / "vendor"
API_DEST = ROOT / "src" / "ecohub" / "api" / "static" / "vendor"

# package → files to copy (relative to the package folder), destination sub-folder, destination root
FILES = {
    "echarts": (["dist/echarts.min.js", "LICENSE"], "echarts", DEST),
    "leaflet": (["dist/leaflet.js", "dist/leaflet.css", "dist/images/marker-icon.png",
                 "dist/images/marker-icon-2x.png", "dist/images/marker-shadow.png", "dist/images/layers.png",
                 "dist/images/layers-2x.png", "LICENSE"], "leaflet", DEST),
    "swagger-ui-dist": (["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE"], "swagger-ui", API_DEST),
    "redoc": (["bundles/redoc.standalone.js", "bundles/redoc.standalone.js.LICENSE.txt", "LICENSE"], "redoc",
              API_DEST),
}

# Edits of vendored files, each found exactly once (else the build stops): what a page would load from outside.
# ReDoc's sidebar shows an attribution logo from cdn.redoc.ly; the CSP would refuse it (a console error) and the
# bureau networks cannot reach it. An empty data: URL makes the <img> fail and ReDoc hides it (its onError).
PATCHES = {
    "redoc/redoc.standalone.js": [("https://cdn.redoc.ly/redoc/logo-mini.svg", "data:,")],
}


def _patch(target: Path, key: str) -> list[str]:
    edits = PATCHES.get(key, [])
    if not edits:
        return []
    text = target.read_text(encoding="utf-8")
    for old, new in edits:
        n = text.count(old)
        if n != 1:
            raise SystemExit(f"error: {key}: expected {old!r} once, found it {n} times (new version? review PATCHES)")
        text = text.replace(old, new)
    target.write_text(text, encoding="utf-8")
    return [f"{old} -> {new}" for old, new in edits]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-npm", action="store_true", help="copy from an existing web/node_modules")
    a = ap.parse_args()
    if not a.skip_npm:
        npm = shutil.which("npm")
        if npm is None:
            print("error: npm is needed once to vendor the front-end libraries (apt-get install npm)", file=sys.stderr)
            return 2
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=WEB, check=True)
    lock = json.loads((WEB / "package-lock.json").read_text())
    records: dict[Path, dict] = {}
    for pkg, (files, sub, dest) in FILES.items():
        src = WEB / "node_modules" / pkg
        version = lock["packages"][f"node_modules/{pkg}"]["version"]
        out = dest / sub
        out.mkdir(parents=True, exist_ok=True)
        record = records.setdefault(dest, {})
        for rel in files:
            target = out / Path(rel).name
            shutil.copyfile(src / rel, target)
            key = f"{sub}/{target.name}"
            patched = _patch(target, key)
            record[key] = {"package": pkg, "version": version,
                           "sha256": hashlib.sha256(target.read_bytes()).hexdigest()}
            if patched:
                record[key]["patched"] = patched
    for dest, record in records.items():
        (dest / "VERSIONS.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        print(f"vendored {len(record)} files into {dest.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
