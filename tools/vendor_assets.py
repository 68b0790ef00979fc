"""Vendor the front-end libraries from the npm registry into the package (build time, never at page load).

    python tools/vendor_assets.py            # npm ci in web/, then copy into src/ecohub/web/static/vendor/

Versions are pinned in web/package.json and web/package-lock.json; the copied files and their SHA-256 are
recorded in src/ecohub/web/static/vendor/VERSIONS.json (served to the browser as-is, checked by the tests).
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

# package → files to copy (relative to the package folder) → destination sub-folder
FILES = {
    "echarts": (["dist/echarts.min.js", "LICENSE"], "echarts"),
    "leaflet": (["dist/leaflet.js", "dist/leaflet.css", "dist/images/marker-icon.png",
                 "dist/images/marker-icon-2x.png", "dist/images/marker-shadow.png", "dist/images/layers.png",
                 "dist/images/layers-2x.png", "LICENSE"], "leaflet"),
}


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
    record = {}
    for pkg, (files, sub) in FILES.items():
        src = WEB / "node_modules" / pkg
        version = lock["packages"][f"node_modules/{pkg}"]["version"]
        out = DEST / sub
        out.mkdir(parents=True, exist_ok=True)
        for rel in files:
            target = out / Path(rel).name
            shutil.copyfile(src / rel, target)
            record[f"{sub}/{target.name}"] = {"package": pkg, "version": version,
                                              "sha256": hashlib.sha256(target.read_bytes()).hexdigest()}
    (DEST / "VERSIONS.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    print(f"vendored {len(record)} files into {DEST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
