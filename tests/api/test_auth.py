"""Login, tokens, and that every endpoint but health, login and static assets needs a user."""

from __future__ import annotations

import pytest

from tests.conftest import DEMO_PASSWORD


def test_login_and_me(client, login):
    headers = login("admin")
    me = client.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["role"] == "admin"
    assert "password_hash" not in me.text


def test_wrong_password_is_401_problem(client):
    r = client.post("/api/v1/auth/login", json={"username": "admin", "password": "nope"})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "invalid_credentials"
    unknown = client.post("/api/v1/auth/login", json={"username": "ghost", "password": "nope"})
    assert unknown.json()["code"] == "invalid_credentials"


def test_oauth2_token_form(client):
    r = client.post("/api/v1/auth/token", data={"username": "admin", "password": DEMO_PASSWORD})
    assert r.status_code == 200
    assert r.json()["token_type"] == "bearer"


def test_logout_revokes_token(client, login):
    headers = login("land")
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    r = client.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 401
    assert r.json()["code"] == "invalid_token"


def test_password_is_argon2(session):
    from tests.factories import user

    assert user(session, "admin").password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/projects"),
        ("GET", "/api/v1/projects/1"),
        ("POST", "/api/v1/projects"),
        ("PATCH", "/api/v1/projects/1"),
        ("GET", "/api/v1/projects/geojson"),
        ("POST", "/api/v1/projects/import"),
        ("GET", "/api/v1/projects/1/progress"),
        ("POST", "/api/v1/projects/1/progress"),
        ("GET", "/api/v1/units"),
        ("GET", "/api/v1/users"),
        ("GET", "/api/v1/townships"),
        ("GET", "/api/v1/county"),
        ("GET", "/api/v1/audit"),
        ("GET", "/api/v1/auth/me"),
    ],
)
def test_endpoints_need_login(client, method, path):
    r = client.request(method, path, json={} if method in {"POST", "PATCH"} else None)
    assert r.status_code == 401
    assert r.json()["code"] == "not_authenticated"


def test_open_endpoints(client):
    health = client.get("/api/v1/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert client.get("/api/v1/openapi.json").status_code == 200
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower()
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
