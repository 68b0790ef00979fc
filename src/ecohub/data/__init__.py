"""Reference and demo data shipped with ecohub (read with ``importlib.resources``; see README.md).

Built by ``tools/build_reference_data.py``; do not edit the data files by hand.
"""
