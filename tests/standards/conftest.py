"""Make ``src/`` importable when the package is not installed (the lead's venv may not have it yet)."""

import sys
from pathlib import Path

try:
    import ecohub.standards  # noqa: F401
except ImportError:  # pragma: no cover - depends on the environment
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
