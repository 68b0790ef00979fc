"""The quarantine sink lives in the store (:mod:`ecohub.store.quarantine`) so that every package that rejects
input — ingest channels, permit import, … — can keep what it rejected without importing ``ingest``."""

from ecohub.store.quarantine import MAX_RAW, QuarantineSink, list_quarantine

__all__ = ["MAX_RAW", "QuarantineSink", "list_quarantine"]
