"""The CP data area: ``CP=&&field=value,field=value;field=value&&``.

Items are ``name=value``; values of one item group are separated by ``,``, groups by ``;``.
Factor fields are ``<code>-<kind>`` (``a21026-Rtd``, ``w01018-Flag`` …); other names are
parameters of the command (``DataTime``, ``BeginTime``, ``QnRtn``, ``RtdInterval``, ``PolId`` …).

A :class:`DataArea` keeps the CP text exactly as received (so re-encoding is byte-exact), a dict of
its items and lazily built views (``factors``, ``groups``, ``pairs``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime

from .errors import HJ212Error
from .times import TIME_RE, TIME_RE_EARLY, format_time, parse_time

__all__ = [
    "DataArea",
    "parse_cp",
    "build_cp",
    "format_value",
    "NUMERIC_KINDS",
    "TIME_FIELDS",
    "EMPTY_CP",
]

#: Kinds whose values are numbers (HJ 212-2017 Table 4; RS/RT of treatment facilities).
NUMERIC_KINDS = (
    "Rtd", "Avg", "Min", "Max", "Cou", "ZsRtd", "ZsAvg", "ZsMin", "ZsMax", "ZsCou",
    "Data", "DayData", "NightData", "RS", "RT",
)
#: Parameter names whose values are times (``YYYYMMDDhhmmss[zzz]``).
TIME_FIELDS = (
    "DataTime", "BeginTime", "EndTime", "SystemTime", "RestartTime", "AlarmTime", "SKCreateTime",
)
_ANSWER_FIELDS = ("QnRtn", "ExeRtn")

_NUM = r"[-+]?+(?:\d++(?:\.\d*+)?+|\.\d++)"
_CODE = r"[A-Za-z0-9_.]++"
_VAL = r"[^;,=&]*+"
_NUMK = "|".join(NUMERIC_KINDS)
_TIMEK = "|".join(TIME_FIELDS)
_ANSK = "|".join(_ANSWER_FIELDS)
# One item.  The repetition around it is possessive, so an item is never re-matched once the
# next separator has been reached: the grammar runs in linear time and a value that fails its
# type (``a21026-Rtd=1.5x``) fails the whole match instead of falling back to a generic item.


def _item_strict(time_re: str) -> str:
    return (
        rf"(?:{_CODE}-(?:(?:{_NUMK})={_NUM}"
        rf"|Flag=[A-Za-z0-9]"
        rf"|EFlag=[A-Za-z0-9]{{1,4}}+"
        rf"|SampleTime={time_re}"
        rf"|(?!(?:{_NUMK}|Flag|EFlag|SampleTime)=)[^;,=&\s]++={_VAL})"
        rf"|(?:{_TIMEK})={time_re}"
        rf"|(?:{_ANSK})=\d{{1,3}}+"
        rf"|(?!{_CODE}-|(?:{_TIMEK}|{_ANSK})=)[^;,=&\s]++={_VAL})"
    )


def _grammar(item: str) -> re.Pattern[str]:
    return re.compile(rf"(?:{item}(?:[;,]{item})*+)?+[;,]?")


_CP_STRICT = _grammar(_item_strict(TIME_RE))
#: fast path: days 01–28 and 14-digit times only, so a match needs no calendar check and has no
#: millisecond time to report (those go through parse_cp)
_CP_FAST = _grammar(_item_strict(TIME_RE_EARLY.removesuffix(r"(?:\d{3})?")))
_CP_LOOSE = _grammar(rf"[^;,=&\s]++={_VAL}")
_LATE_DAY = re.compile(r"Time=\d{6}(?:29|3[01])")
_NUM_RE = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)")
_FLAG_RE = re.compile(r"[A-Za-z0-9]")
_EFLAG_RE = re.compile(r"[A-Za-z0-9]{1,4}")
_SEP = re.compile(r"[;,]")


class DataArea:
    """A decoded CP data area.

    Attributes:
        text: the CP body as transmitted between ``&&`` and ``&&`` (ciphertext if ``encrypted``).
        encrypted: True when the body is HJ 212-2025 ciphertext that was not decrypted.

    Values are kept as transmitted text; ``fields``, ``factors``, ``groups`` and ``pairs`` are
    views built on first use.
    """

    __slots__ = ("text", "encrypted", "_items", "_fields", "_factors", "_groups")

    def __init__(self, text: str = "", *, encrypted: bool = False, _items: list[str] | None = None) -> None:
        self.text = text
        self.encrypted = encrypted
        if _items is None:
            _items = _split_items(text) if text and not encrypted else []
        self._items = _items  # "name=value" strings, in order
        self._fields: dict[str, str] | None = None
        self._factors: dict[str, dict[str, str]] | None = None
        self._groups: list[list[tuple[str, str]]] | None = None

    # --- views ---------------------------------------------------------------------------------
    @property
    def fields(self) -> dict[str, str]:
        """``{name: value}`` of every item (the last value wins if a name occurs twice)."""
        f = self._fields
        if f is None:
            f = self._fields = dict(item.split("=", 1) for item in self._items)  # type: ignore[misc]
        return f

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """Every ``(name, value)`` in order, duplicates included."""
        return [tuple(item.split("=", 1)) for item in self._items]  # type: ignore[misc]

    @property
    def factors(self) -> dict[str, dict[str, str]]:
        """``{code: {kind: value}}`` of the factor fields (``a21026-Rtd`` → ``["a21026"]["Rtd"]``)."""
        if self._factors is None:
            out: dict[str, dict[str, str]] = {}
            for item in self._items:
                name, _, value = item.partition("=")
                code, dash, kind = name.partition("-")
                if dash:
                    d = out.get(code)
                    if d is None:
                        out[code] = {kind: value}
                    else:
                        d[kind] = value
            self._factors = out
        return self._factors

    @property
    def params(self) -> dict[str, str]:
        """Items that are not factor fields (``DataTime``, ``QnRtn``, ``PolId`` …)."""
        return {k: v for k, v in self.fields.items() if "-" not in k}

    @property
    def groups(self) -> list[list[tuple[str, str]]]:
        """The ``;``-separated groups, each a list of its ``,``-separated ``(name, value)`` items."""
        if self._groups is None:
            if not self.text or self.encrypted:
                self._groups = []
            else:
                body = self.text.rstrip(";,")
                self._groups = [
                    [tuple(item.split("=", 1)) for item in g.split(",")] for g in body.split(";")  # type: ignore[misc]
                ]
        return self._groups

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.fields.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self.fields

    def __getitem__(self, name: str) -> str:
        return self.fields[name]

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self.text)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DataArea):
            return NotImplemented
        return self.text == other.text and self.encrypted == other.encrypted

    def __hash__(self) -> int:
        return hash((self.text, self.encrypted))

    def __repr__(self) -> str:
        return f"DataArea({self.text!r}{', encrypted=True' if self.encrypted else ''})"

    # --- construction --------------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str, *, strict_values: bool = True) -> DataArea:
        """Validate and parse a CP body; raises :class:`HJ212Error`."""
        return parse_cp(text, strict_values=strict_values)

    @classmethod
    def build(
        cls,
        params: Mapping[str, object] | Iterable[tuple[str, object]] = (),
        factors: Mapping[str, Mapping[str, object]] | None = None,
    ) -> DataArea:
        """Build a CP from parameters and factor values (see :func:`build_cp`)."""
        return parse_cp(build_cp(params, factors))


EMPTY_CP = DataArea("")


def _split_items(text: str) -> list[str]:
    body = text[:-1] if text[-1:] in (";", ",") else text
    return body.replace(",", ";").split(";")


def parse_cp(text: str, *, strict_values: bool = True) -> DataArea:
    """Validate a CP body (without the ``&&``) and return its :class:`DataArea`.

    Checks the item structure and, with ``strict_values``, the value formats: numbers for
    ``-Rtd/-Avg/-Min/-Max/-Cou/-Zs*/…``, one character for ``-Flag``, 1–4 for ``-EFlag``, valid
    Beijing times for ``DataTime``, ``BeginTime``, ``-SampleTime`` …, 1–3 digits for answer codes.
    """
    if not text:
        return DataArea("", _items=[])
    if strict_values and _CP_FAST.fullmatch(text) is not None:
        return DataArea(text, _items=_split_items(text))
    if (_CP_STRICT if strict_values else _CP_LOOSE).fullmatch(text) is None:
        _diagnose(text, strict_values)  # raises with the precise reason
        raise HJ212Error("bad_cp", f"CP data area is malformed: {text[:60]!r}", "CP", text)
    if strict_values and _LATE_DAY.search(text) is not None:
        _check_calendar(text)
    return DataArea(text, _items=_split_items(text))


def _check_calendar(text: str) -> None:
    for item in _SEP.split(text):
        name, _, value = item.partition("=")
        if name in TIME_FIELDS or name.endswith("-SampleTime"):
            parse_time(value, name)


def _diagnose(text: str, strict: bool) -> None:
    """Find the first bad item of a CP body that failed the grammar and raise for it."""
    if "&" in text:
        raise HJ212Error("bad_cp", "CP data area contains '&' (only '&&' may delimit it)", "CP", text)
    body = text[:-1] if text[-1] in ";," else text
    for item in _SEP.split(body):
        if not item:
            raise HJ212Error("bad_cp", "CP has an empty item (';;' or ',,')", "CP", text)
        name, eq, value = item.partition("=")
        if not eq:
            raise HJ212Error("bad_cp", f"CP item {item!r} has no '='", "CP", item)
        if not name or any(c.isspace() for c in name):
            raise HJ212Error("bad_cp", f"CP item name {name!r} is empty or contains white space", "CP", item)
        if "=" in value:
            raise HJ212Error("bad_cp", f"CP item {item!r} has more than one '='", name, value)
        if not strict:
            continue
        code, dash, kind = name.partition("-")
        if dash and code and "-" not in kind:
            if kind in NUMERIC_KINDS and _NUM_RE.fullmatch(value) is None:
                raise HJ212Error("bad_field", f"{name}={value!r} is not a number", name, value)
            if kind == "Flag" and _FLAG_RE.fullmatch(value) is None:
                raise HJ212Error("bad_flag", f"{name}={value!r} is not a one-character data flag", name, value)
            if kind == "EFlag" and _EFLAG_RE.fullmatch(value) is None:
                raise HJ212Error("bad_flag", f"{name}={value!r} is not a 1–4 character extended flag", name, value)
            if kind == "SampleTime":
                parse_time(value, name)
        elif name in TIME_FIELDS:
            parse_time(value, name)
        elif name in _ANSWER_FIELDS and not (value.isdigit() and len(value) <= 3 and value.isascii()):
            raise HJ212Error("bad_field", f"{name}={value!r} is not a 1–3 digit answer code", name, value)


# --- building --------------------------------------------------------------------------------------


def format_value(value: object) -> str:
    """Text of a CP value: floats without exponent, datetimes as Beijing ``YYYYMMDDhhmmss``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise HJ212Error("bad_field", f"{value!r} cannot be sent as an HJ 212 number", None, value)
        text = repr(value)
        if "e" in text or "E" in text:
            text = f"{value:.15f}".rstrip("0").rstrip(".")
            if text in ("-0", ""):
                text = "0"
        return text
    if isinstance(value, datetime):
        return format_time(value)
    raise HJ212Error("bad_field", f"cannot send a {type(value).__name__} as a CP value", None, value)


def build_cp(
    params: Mapping[str, object] | Iterable[tuple[str, object]] = (),
    factors: Mapping[str, Mapping[str, object]] | None = None,
) -> str:
    """CP body text: each parameter its own ``;`` group, then one ``,`` group per factor code.

    ``build_cp({"DataTime": dt}, {"a21026": {"Rtd": 12.3, "Flag": "N"}})`` →
    ``"DataTime=20260101120000;a21026-Rtd=12.3,a21026-Flag=N"``.
    """
    items = params.items() if isinstance(params, Mapping) else params
    groups = [f"{k}={format_value(v)}" for k, v in items]
    for code, kinds in (factors or {}).items():
        groups.append(",".join(f"{code}-{kind}={format_value(v)}" for kind, v in kinds.items()))
    return ";".join(groups)
