"""Ingest: importers and gateways. Every channel validates, quarantines what it rejects, and writes through
the one batching writer (``ecohub.store.writer``)."""
