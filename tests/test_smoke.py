"""The app starts on each database and answers its health check."""


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert "detail" in response.json()


def test_openapi_schema(client):
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "kontor"
