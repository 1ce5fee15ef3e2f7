"""Addresses of calendar feeds, as pages link to them."""

from __future__ import annotations

from urllib.parse import urlsplit


def webcal_url(url: str) -> str:
    """The same feed for calendar apps that subscribe on a click (Apple Calendar, Outlook)."""
    scheme = urlsplit(url).scheme
    return "webcal://" + url[len(scheme) + 3 :] if scheme in {"http", "https"} else url


def hours_feed_url(public_url: str, slug: str) -> str:
    """The office's opening hours as a calendar to subscribe to."""
    return f"{public_url.rstrip('/')}/offices/{slug}/hours.ics"


def staff_feed_url(public_url: str, token: str) -> str:
    """A staff feed's secret address."""
    return f"{public_url.rstrip('/')}/feeds/{token}.ics"
