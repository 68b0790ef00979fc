"""Data exchange (migration 0017): HJ 212 forwarding to upstream platforms and push exchange with partners.

* ``forward_destination`` — an upstream HJ 212 platform (数据转发目标): address, edition, which devices and
  parameters, original packets or re-encoded with the destination's MN/PW mapping, and its running status
  (last ack, failures, totals) kept by the forwarder.
* ``forward_outbox`` — the durable outbox: one row per (destination, packet), written by the gateway's writer
  *before* the packet's observations (so a packet the device was answered for is always in it), unique per
  (destination, MN, CN, QN-or-DataTime) so a device's retransmission is queued once. The forwarder sends the
  pending rows in ``id`` order and marks them ``done``.
* ``partner`` — a partner department or platform: its push endpoint, signature algorithm and keys, and the
  user whose catalogue grants apply to what is pushed to it.
* ``partner_subscription`` — a partner × dataset, with the cursor of what was pushed (``received_at`` of the
  last row pushed, plus the key of that row for ties).
* ``exchange_batch`` — the exchange log, both directions: batch id (the idempotency key), dataset, row count,
  hash of the canonical rows, status, attempts; ``payload`` keeps an outgoing batch until delivered so that a
  resend carries the very same rows under the same id.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)

from ecohub.store.schema import metadata
from ecohub.store.types import UTCTime

forward_destination = Table(
    "forward_destination", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("host", String(255), nullable=False),
    Column("port", Integer, nullable=False),
    Column("edition", String(4), nullable=False),  # 2005, 2017, 2025 (re-encoded packets)
    Column("mode", String(16), nullable=False),  # original | reencode
    Column("devices", JSON, nullable=True),  # [MN, …]; NULL: every device
    Column("parameters", JSON, nullable=True),  # [HJ 212 factor code, …] (reencode only); NULL: all
    Column("mn_map", JSON, nullable=True),  # {local MN: {"mn": remote MN, "pw": remote PW}} (reencode)
    Column("pw", String(32), nullable=True),  # default PW for re-encoded packets (else the device's own)
    Column("ack", Boolean, nullable=False, server_default=true()),  # re-encoded packets ask for 9014 (Flag.A)
    Column("enabled", Boolean, nullable=False, server_default=true()),
    Column("created_at", UTCTime, nullable=False),
    # status, kept by the forwarder
    Column("last_ack_at", UTCTime, nullable=True),
    Column("last_sent_at", UTCTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("sent", Integer, nullable=False, server_default="0"),
    Column("acked", Integer, nullable=False, server_default="0"),
    CheckConstraint("mode IN ('original', 'reencode')", name="mode"),
    CheckConstraint("port BETWEEN 1 AND 65535", name="port"),
)

forward_outbox = Table(
    "forward_outbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("destination_id", Integer, ForeignKey("forward_destination.id", ondelete="CASCADE"), nullable=False),
    Column("mn", String(64), nullable=False),
    Column("cn", String(4), nullable=False),
    Column("ref", String(32), nullable=False),  # QN, or DataTime when the packet has none (2005)
    Column("frame", Text, nullable=False),  # the packet as received (password included: it is forwarded)
    Column("status", String(8), nullable=False),  # pending | done
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("created_at", UTCTime, nullable=False),
    Column("sent_at", UTCTime, nullable=True),
    Column("acked_at", UTCTime, nullable=True),
    UniqueConstraint("destination_id", "mn", "cn", "ref"),
)
Index("ix_forward_outbox_pending", forward_outbox.c.destination_id, forward_outbox.c.status, forward_outbox.c.id)

partner = Table(
    "partner", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("department", String(200), nullable=True),
    Column("endpoint", String(500), nullable=True),  # where batches are pushed (https://…); NULL: incoming only
    Column("alg", String(16), nullable=False),  # hmac-sha256 | sm2
    Column("key_id", String(64), nullable=False, unique=True),
    Column("secret", String(128), nullable=True),  # HMAC shared secret (hex), both directions
    Column("sign_private", String(128), nullable=True),  # SM2: our private key for this partner (hex)
    Column("sign_public", String(200), nullable=True),  # SM2: its public key, given to the partner
    Column("partner_public", String(200), nullable=True),  # SM2: the partner's public key (incoming)
    Column("user_id", Integer, ForeignKey("app_user.id"), nullable=True),  # whose catalogue grants apply
    Column("incoming", JSON, nullable=True),  # datasets it may push to us: [code, …]
    Column("enabled", Boolean, nullable=False, server_default=true()),
    Column("created_at", UTCTime, nullable=False),
    CheckConstraint("alg IN ('hmac-sha256', 'sm2')", name="alg"),
)

partner_subscription = Table(
    "partner_subscription", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("partner_id", Integer, ForeignKey("partner.id", ondelete="CASCADE"), nullable=False),
    Column("dataset_id", Integer, ForeignKey("dataset.id"), nullable=False),
    Column("cursor", String(100), nullable=True),  # opaque position of the last row pushed
    Column("enabled", Boolean, nullable=False, server_default=true()),
    Column("created_at", UTCTime, nullable=False),
    Column("pushed_at", UTCTime, nullable=True),
    UniqueConstraint("partner_id", "dataset_id"),
)

exchange_batch = Table(
    "exchange_batch", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", String(64), nullable=False),
    Column("direction", String(3), nullable=False),  # out | in
    Column("partner_id", Integer, ForeignKey("partner.id", ondelete="CASCADE"), nullable=False),
    Column("dataset", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("hash_alg", String(8), nullable=False),  # sha256 | sm3
    Column("hash", String(64), nullable=False),
    # out: pending, delivered, failed (gave up for now; retried); in: applied, rejected
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("detail", JSON, nullable=True),  # in: imported/duplicates/rejected counts; out: the partner's answer
    Column("payload", Text, nullable=True),  # out: the batch body until delivered (resent unchanged)
    Column("cursor", String(100), nullable=True),  # out: the subscription cursor after this batch
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCTime, nullable=False),
    Column("updated_at", UTCTime, nullable=False),
    UniqueConstraint("partner_id", "direction", "batch_id"),
)
Index("ix_exchange_batch_status", exchange_batch.c.direction, exchange_batch.c.status)
