"""Errors about input, each naming the field and the value it refuses."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: ``field`` and ``value`` say what, ``reason`` says why. ``str()`` is a complete sentence."""

    def __init__(self, field: str, value: object, reason: str):
        self.field = field
        self.value = value
        self.reason = reason
        shown = value if isinstance(value, str) else repr(value)
        if isinstance(shown, str) and len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"{field}={shown!r}: {reason}" if value is not None else f"{field}: {reason}")


class NotFound(LookupError):
    """A referenced thing (site, region, enterprise …) does not exist."""
