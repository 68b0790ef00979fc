"""HJ 212 codec (HJ/T 212-2005, HJ 212-2017, HJ 212-2025) — ``ecohub.protocols.hj212``.

Pure standard library (``cryptography`` is used for SM4 when installed); imports nothing else of
ecohub.  Decoding raises :class:`HJ212Error` — and nothing else — for any input.

    >>> from ecohub.protocols.hj212 import decode, encode, records
    >>> p = decode(b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;"
    ...            b"MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\\r\\n")
    >>> p.cn, p.version, p.cp["RtdInterval"]
    ('1062', '2017', '30')
"""

from .codes import (
    COMMAND_CODES,
    DATA_FLAGS_2005,
    DATA_FLAGS_2017,
    FACTORS,
    OLD_CODES,
    PARAMETERS,
    SYSTEM_CODES,
    Factor,
    code_2017,
    factor,
    parameter_for,
)
from .commands import (
    Exchange,
    answer_for,
    data_ack,
    exe_rtn,
    flag_for,
    get_rtd_interval,
    get_time,
    history_request,
    new_qn,
    notify_ack,
    qn_rtn,
    request,
    set_min_interval,
    set_rtd_interval,
    set_time,
    start_realtime,
    stop_realtime,
)
from .cp import DataArea, build_cp, parse_cp
from .crc import crc_hex, hj212_crc, hj212_crc_bitwise, modbus_crc
from .deviations import WARNINGS, PacketWarning, WarningTally
from .dialect import DIALECTS, LENIENT, STANDARD, STRICT, Dialect, dialect_named
from .encrypted import encrypt_frame, encrypt_segment_text
from .errors import REASONS, HJ212Error
from .frame import FrameEvent, StreamFramer, iter_frames
from .packet import Packet, decode, decode_segment, encode, encode_segment, frame_segment, split_frame
from .reassembly import PendingGroup, Reassembler
from .records import Record, records
from .sm4 import SM4_PRESETS, SM4_STANDARD, Sm4Variant, decrypt_cp, encrypt_cp
from .times import BEIJING, format_qn, format_time, parse_time, to_utc

__all__ = [
    # packets
    "Packet", "DataArea", "decode", "decode_segment", "encode", "encode_segment", "frame_segment",
    "split_frame", "parse_cp", "build_cp",
    # errors, dialects
    "HJ212Error", "REASONS", "Dialect", "STANDARD", "LENIENT", "STRICT", "DIALECTS", "dialect_named",
    "PacketWarning", "WARNINGS", "WarningTally",
    # HJ 212-2025 SM4 variants (the simulator sends each one)
    "Sm4Variant", "SM4_STANDARD", "SM4_PRESETS", "encrypt_frame", "encrypt_segment_text",
    # stream
    "StreamFramer", "FrameEvent", "iter_frames", "Reassembler", "PendingGroup",
    # records
    "Record", "records",
    # commands
    "request", "history_request", "set_rtd_interval", "get_rtd_interval", "set_min_interval",
    "set_time", "get_time", "start_realtime", "stop_realtime", "qn_rtn", "exe_rtn", "notify_ack",
    "data_ack", "answer_for", "Exchange", "new_qn", "flag_for",
    # CRC, SM4, time
    "hj212_crc", "hj212_crc_bitwise", "modbus_crc", "crc_hex", "encrypt_cp", "decrypt_cp",
    "BEIJING", "parse_time", "to_utc", "format_time", "format_qn",
    # codes
    "SYSTEM_CODES", "COMMAND_CODES", "DATA_FLAGS_2017", "DATA_FLAGS_2005", "FACTORS", "OLD_CODES",
    "PARAMETERS", "Factor", "factor", "code_2017", "parameter_for",
]
