"""Integrity of raw data (migration 0016): ``obs_batch`` — one row per batch the observation writer committed
(per source: the source's received-at second, the number of rows it inserted, SM3 over those rows in canonical
form, and the hash chain over the source's batches). ``ecohub data verify`` recomputes it from ``observation``
(:mod:`ecohub.store.batch_chain`). The audit chain's columns are on ``audit_log`` (``schema_identity``)."""

from sqlalchemy import BigInteger, Column, Integer, SmallInteger, String, Table, UniqueConstraint

from ecohub.store.schema import metadata

obs_batch = Table(
    "obs_batch", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_id", SmallInteger, nullable=False),
    Column("received_at", BigInteger, nullable=False),  # epoch seconds, equal to the rows' observation.received_at
    Column("seq", BigInteger, nullable=False),  # place in the source's chain, from 1
    Column("count", Integer, nullable=False),
    Column("rows_sm3", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("source_id", "received_at", name="uq_obs_batch_source_received"),
    UniqueConstraint("source_id", "seq", name="uq_obs_batch_source_seq"),
)

#: Retention (migration 0024, :mod:`ecohub.store.retention`): a batch some of whose raw rows were dropped after
#: they were in the Parquet lake. Before dropping, retention checked the batch against its ``obs_batch`` record
#: (or its previous retention row); ``ecohub data verify`` then checks what is left against ``remaining_count`` /
#: ``remaining_sm3``. ``hash`` = SM3(batch hash | removed | remaining_count | remaining_sm3) binds it to the batch.
obs_retention = Table(
    "obs_retention", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_id", SmallInteger, nullable=False),
    Column("received_at", BigInteger, nullable=False),  # the batch's key, as in obs_batch
    Column("removed", Integer, nullable=False),  # rows dropped by retention so far
    Column("remaining_count", Integer, nullable=False),
    Column("remaining_sm3", String(64), nullable=False),
    Column("run", String(40), nullable=False),  # the retention run that last touched it
    Column("hash", String(64), nullable=False),
    UniqueConstraint("source_id", "received_at", name="uq_obs_retention_source_received"),
)
