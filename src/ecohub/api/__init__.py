"""HTTP API (FastAPI) and the pages served with it."""
