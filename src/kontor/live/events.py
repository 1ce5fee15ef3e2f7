"""What travels on the live bus: an office, a kind of change, a little data; and its NOTIFY form."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# Kinds of event. "called" and "alarm" make screens chime, so a stream never merges them away.
TICKET = "ticket"
CALLED = "called"
ALARM = "alarm"
RESYNC = "resync"
# The office's call-backs changed: only the front desk follows these.
CALLBACKS = "callbacks"

CHANNEL = "kontor_live"
# PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; events are meant to be far smaller.
MAX_PAYLOAD = 4000


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """Something changed at an office. ``data`` is small, JSON-able and never personal data."""

    office_id: int
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


def encode_event(event: LiveEvent) -> str:
    """The NOTIFY payload: ``{"o": office, "k": kind, "d": data}``. Raises ValueError when too large
    and TypeError when ``data`` is not JSON-able (both are mistakes of the caller, found in tests)."""
    payload = json.dumps({"o": event.office_id, "k": event.kind, "d": event.data}, separators=(",", ":"))
    if len(payload.encode()) > MAX_PAYLOAD:
        raise ValueError(f"live event of kind {event.kind!r} is larger than {MAX_PAYLOAD} bytes")
    return payload


def decode_event(payload: str) -> LiveEvent:
    """The inverse of :func:`encode_event`; ValueError for anything else."""
    try:
        raw = json.loads(payload)
    except (ValueError, TypeError) as exc:
        raise ValueError("not a live event") from exc
    if not isinstance(raw, dict):
        raise ValueError("not a live event")
    office_id, kind, data = raw.get("o"), raw.get("k"), raw.get("d", {})
    if type(office_id) is not int or not isinstance(kind, str) or not kind or not isinstance(data, dict):
        raise ValueError("not a live event")
    return LiveEvent(office_id, kind, data)
