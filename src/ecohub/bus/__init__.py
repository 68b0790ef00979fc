"""The ingest bus (NATS JetStream) around the one writer: receivers publish validated records to a stream
(:class:`~ecohub.bus.publish.BusCommitter`, acknowledged to the device only after the stream's ack), writer
processes consume them and commit through the idempotent writer before acking the message
(:func:`~ecohub.bus.consume.run_writers`). See ``docs/bus.md``."""

from ecohub.bus.codec import BusMessage, decode, encode
from ecohub.bus.streams import DEAD_STREAM, STREAM, BusConfig, subject_for

__all__ = ["DEAD_STREAM", "STREAM", "BusConfig", "BusMessage", "decode", "encode", "subject_for"]
