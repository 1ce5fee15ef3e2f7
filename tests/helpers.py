"""Helpers for page tests: CSRF tokens and logging in through the real login form.

from tests.helpers import csrf_token, login, post_form

login(client, "manager")                      # password from tests.factories.PASSWORDS
response = post_form(client, "/admin/users/new", {"username": "x", ...})
"""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient

from tests.factories import PASSWORDS

CSRF_COOKIE = "kontor_csrf"
CSRF_FIELD = "_csrf_token"
SESSION_COOKIE = "kontor_session"

_HIDDEN_TOKEN = re.compile(r'name="_csrf_token"\s+value="([^"]+)"|value="([^"]+)"\s+name="_csrf_token"')


def csrf_token(client: TestClient, path: str = "/login") -> str:
    """The CSRF token to post back: GETs ``path`` when the client has no ``kontor_csrf`` cookie yet,
    then returns the cookie (or, failing that, the hidden ``_csrf_token`` input of the page)."""
    token = client.cookies.get(CSRF_COOKIE)
    if token:
        return token
    response = client.get(path)
    token = client.cookies.get(CSRF_COOKIE)
    if token:
        return token
    match = _HIDDEN_TOKEN.search(response.text)
    if match is None:
        raise AssertionError(f"no CSRF token on {path} (status {response.status_code})")
    return match.group(1) or match.group(2)


def post_form(client: TestClient, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """POST ``data`` as a plain HTML form would, with the CSRF token, without following redirects.
    List values become repeated fields (checkboxes)."""
    form = dict(data or {})
    form[CSRF_FIELD] = csrf_token(client)
    kwargs.setdefault("follow_redirects", False)
    return client.post(path, data=form, **kwargs)


def login(client: TestClient, username: str, password: str | None = None, next: str | None = None) -> Any:
    """Log in through ``POST /login``; the password defaults to the factory user's. Returns the
    response (a 303 on success), and asserts nothing so tests can check failures too."""
    if password is None:
        password = PASSWORDS.get(username, PASSWORDS["manager"])
    data = {"username": username, "password": password}
    if next is not None:
        data["next"] = next
    return post_form(client, "/login", data)


def logged_in(client: TestClient, username: str) -> TestClient:
    """Log ``username`` in and fail the test at once if that did not work."""
    response = login(client, username)
    assert response.status_code == 303, f"login as {username} failed: {response.status_code}"
    return client
