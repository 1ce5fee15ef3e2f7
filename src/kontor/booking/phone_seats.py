"""Seats kept for the phone: a share of a slot's seats that only staff give out until shortly before
the slot, so residents who cannot book online still find a time when they call the contact center.

An offering has ``seats`` S per slot, of which ``kept`` R (``OfficeService.phone_seats``) are kept for
staff — agents on the phone, desk and counter staff: anyone but a resident booking by themselves —
until ``release`` (``phone_release_hours``) before the slot starts; from then on every free seat is
open to everyone. The public seats are numbered 1..S-R and the kept ones S-R+1..S, so the database's
unique seat index enforces the rule even when bookings race. Staff take a kept seat first and leave
the public ones to residents.

Pure and clock-free: ``now`` is given.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

__all__ = ["free_seats", "is_released", "seat_order", "seats_left", "seats_seen"]


def _check(seats: int, kept: int) -> None:
    if seats < 0 or not 0 <= kept <= seats:
        raise ValueError(f"kept seats must be between 0 and the slot's {seats} seats, got {kept!r}")


def is_released(start: datetime, now: datetime, release: timedelta) -> bool:
    """Whether the kept seats of the slot that begins at ``start`` are open to everyone at ``now``:
    from ``release`` before the start on."""
    return start - now <= release


def seat_order(seats: int, kept: int, *, staff: bool, released: bool) -> list[int]:
    """The seats a booker may take, in the order they are tried: a resident gets the public seats
    1..S-R (every seat 1..S once released), lowest first; staff get the kept seats first, then the
    public ones."""
    _check(seats, kept)
    public = range(1, seats - kept + 1)
    if staff:
        return [*range(seats - kept + 1, seats + 1), *public]
    return list(range(1, seats + 1)) if released else list(public)


def free_seats(seats: int, kept: int, taken: Collection[int], *, staff: bool, released: bool) -> list[int]:
    """The seats of :func:`seat_order` that are not ``taken``, in the same order: the first is the
    one the booker gets."""
    return [seat for seat in seat_order(seats, kept, staff=staff, released=released) if seat not in taken]


def seats_seen(
    seats: int, kept: int, taken: int, taken_public: int, *, staff: bool, released: bool
) -> tuple[int, int]:
    """The seats a booker may use and how many of those are taken, from counts: ``taken`` seats of the
    slot in all, ``taken_public`` of them numbered 1..S-R. A resident before the release sees only
    the public seats; everyone else sees all of them."""
    _check(seats, kept)
    if staff or released or not kept:
        return seats, taken
    return seats - kept, taken_public


def seats_left(seats: int, kept: int, taken: int, taken_public: int, *, staff: bool, released: bool) -> int:
    """How many seats of the slot the booker could still take (the length of :func:`free_seats` for
    the taken seats these counts describe)."""
    usable, used = seats_seen(seats, kept, taken, taken_public, staff=staff, released=released)
    return max(0, usable - used)
