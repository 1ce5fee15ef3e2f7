"""Input no page or API can take is refused before a handler sees it, clearly and never with a 500."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient
from tests.helpers import csrf_token, logged_in, post_form


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/availability?service=A%00B",
        "/offices/kista?lang=%00",
        "/admin/audit?actor=a%00",
    ],
)
def test_a_nul_in_the_query_string_is_a_400(client: TestClient, path: str) -> None:
    logged_in(client, "admin")
    response = client.get(path)
    assert response.status_code == 400


def test_a_nul_in_a_form_is_a_400_in_the_readers_language_and_nothing_is_written(client: TestClient) -> None:
    logged_in(client, "admin")
    response = post_form(
        client, "/admin/districts", {"district_slug": "nul", "district_name": "Nul\x00District"}
    )
    assert response.status_code == 400
    assert "The request could not be understood" in response.text
    assert "Nul" not in client.get("/admin").text


@pytest.mark.parametrize("name", ["A\x00B", "A\\u0000B"])
def test_a_nul_in_a_json_body_is_a_400_with_detail(client: TestClient, name: str) -> None:
    body = '{"office": "kista", "service": "A", "start": "2026-12-15T09:00:00+01:00", "name": "' + name + '"}'
    response = client.post("/api/v1/bookings", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


def test_a_percent_sign_before_zeros_is_ordinary_text(client: TestClient) -> None:
    """ "100%00" typed into a form is sent as 100%2500: no NUL there."""
    logged_in(client, "admin")
    token = csrf_token(client)
    response = client.post(
        "/admin/districts",
        content=f"district_slug=percent&district_name=Rabatt+100%2500&_csrf_token={token}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code in {200, 303}, response.text[-3000:]
    assert "Rabatt 100%00" in client.get("/admin").text


@pytest.mark.parametrize(
    "path",
    ["/admin/users/2147483648", "/admin/users/99999999999999999999", "/admin/outbox/-2147483648"],
)
def test_an_id_beyond_the_databases_integers_is_a_404(client: TestClient, path: str) -> None:
    logged_in(client, "admin")
    assert client.get(path).status_code == 404


def test_a_counter_number_beyond_the_databases_integers_is_a_404_in_json(client: TestClient) -> None:
    response = client.post(
        "/api/v1/offices/kista/counters/9223372036854775808/next",
        content="{}",
        headers={"Content-Type": "application/json", "Authorization": "Bearer x"},
    )
    assert response.status_code in {401, 404}
    assert "detail" in response.json()
