"""Inspections: the random draw (双随机: :mod:`.draw` — the pure, specified algorithm; :mod:`.service` —
directories, recording, verification, publication)."""
