"""Each kind of bad input gets problem+json with a stable code, never a 500, and nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.models import Project
from tests.factories import project_payload


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(Project))


def _post(client, headers, body):
    return client.post("/api/v1/projects", json=body, headers=headers)


def _assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["detail"]
    return body


SWAPPED = {"type": "Point", "coordinates": [34.752, 106.137]}
GK_METRES = {"type": "Point", "coordinates": [512600.0, 3846500.0]}
GK_PREFIXED = {"type": "Point", "coordinates": [35512600.0, 3846500.0]}
OUTSIDE = {"type": "Point", "coordinates": [104.0, 34.7]}
BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[106.13, 34.75], [106.14, 34.76], [106.14, 34.75], [106.13, 34.76], [106.13, 34.75]]],
}
UNCLOSED = {"type": "Polygon", "coordinates": [[[106.13, 34.75], [106.14, 34.76], [106.14, 34.75]]]}
EMPTY = {"type": "Polygon", "coordinates": []}


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"township_id": 999999}, 422, "unknown_township"),
        ({"lead_unit_id": 999999}, 422, "unknown_unit"),
        ({"responsible_unit_ids": [999999]}, 422, "unknown_unit"),
        ({"leader_id": 999999}, 422, "unknown_leader"),
        ({"total_investment_yuan": "-5"}, 422, "invalid_investment"),
        ({"total_investment_yuan": "abc"}, 422, "invalid_investment"),
        ({"annual_plan_yuan": "一百万"}, 422, "invalid_investment"),
        ({"annual_plan_yuan": "70000000"}, 422, "annual_exceeds_total"),
        ({"planned_start": "1900-01-01"}, 422, "date_out_of_range"),
        ({"planned_start": "2026-02-30"}, 422, "invalid_date"),
        ({"list_year": 3026}, 422, "date_out_of_range"),
        ({"site": BOWTIE}, 422, "geometry_invalid"),
        ({"site": UNCLOSED}, 422, "geometry_invalid"),
        ({"site": EMPTY}, 422, "geometry_empty"),
        ({"site": OUTSIDE}, 422, "geometry_outside_county"),
        ({"site": SWAPPED}, 422, "geometry_axis_swapped"),
        ({"site": GK_METRES}, 422, "geometry_projected_coordinates"),
        ({"site": GK_PREFIXED}, 422, "geometry_projected_coordinates"),
        ({"site": {"type": "GeometryCollection", "geometries": []}}, 422, "geometry_type_unsupported"),
        ({"category": "someday"}, 422, "validation_error"),
        ({"code": "not-a-code"}, 422, "validation_error"),
        ({"unexpected_field": 1}, 422, "validation_error"),
    ],
)
def test_bad_project_input(client, login, session, overrides, status, code):
    headers = login("admin")
    before = _count(session)
    body = _assert_problem(_post(client, headers, project_payload(session, **overrides)), status, code)
    assert "Traceback" not in str(body)
    assert _count(session) == before


def test_duplicate_code(client, login, session):
    headers = login("admin")
    body = project_payload(session)
    assert _post(client, headers, body).status_code == 201
    before = _count(session)
    _assert_problem(_post(client, headers, body), 409, "project_code_duplicate")
    assert _count(session) == before


def test_malformed_json(client, login):
    r = client.post(
        "/api/v1/projects",
        content=b'{"code": "2026-620521-48-01-000001",',
        headers={**login("admin"), "content-type": "application/json"},
    )
    _assert_problem(r, 400, "malformed_json")


def test_oversized_body(client, login, settings):
    big = b'{"name": "' + b"x" * (settings.max_body_bytes + 10) + b'"}'
    r = client.post(
        "/api/v1/projects", content=big, headers={**login("admin"), "content-type": "application/json"}
    )
    _assert_problem(r, 413, "body_too_large")


def test_oversized_chunked_body(client, login, settings):
    def chunks():
        for _ in range(settings.max_body_bytes // 1024 + 5):
            yield b"x" * 1024

    r = client.post(
        "/api/v1/projects", content=chunks(), headers={**login("admin"), "content-type": "application/json"}
    )
    _assert_problem(r, 413, "body_too_large")


def test_bad_filters(client, login):
    headers = login("admin")
    for bbox in ("106.2,34.7,106.1,34.8", "a,b,c,d", "106.1,34.7,106.2", "200,34,201,35"):
        _assert_problem(
            client.get("/api/v1/projects", params={"bbox": bbox}, headers=headers), 400, "bbox_invalid"
        )
    _assert_problem(
        client.get("/api/v1/projects", params={"category": "x"}, headers=headers), 422, "validation_error"
    )
    _assert_problem(
        client.get("/api/v1/projects", params={"page_size": 100000}, headers=headers),
        400,
        "page_size_too_large",
    )
    _assert_problem(client.get("/api/v1/projects/999999", headers=headers), 404, "project_not_found")
    _assert_problem(client.get("/api/v1/projects/abc", headers=headers), 422, "validation_error")
    _assert_problem(client.get("/api/v1/nowhere", headers=headers), 404, "not_found")


def test_bad_progress(client, login, session):
    headers = login("admin")
    pid = _post(client, headers, project_payload(session)).json()["id"]
    url = f"/api/v1/projects/{pid}/progress"
    _assert_problem(
        client.post(url, json={"month": "2099-01", "amount_completed_yuan": "1"}, headers=headers),
        422,
        "progress_future_month",
    )
    _assert_problem(
        client.post(url, json={"month": "2026-13", "amount_completed_yuan": "1"}, headers=headers),
        422,
        "validation_error",
    )
    _assert_problem(
        client.post(url, json={"month": "2026-01", "amount_completed_yuan": "-1"}, headers=headers),
        422,
        "invalid_amount",
    )


def test_patch_bad_input_leaves_project_unchanged(client, login, session):
    headers = login("admin")
    created = _post(client, headers, project_payload(session)).json()
    url = f"/api/v1/projects/{created['id']}"
    _assert_problem(
        client.patch(url, json={"annual_plan_yuan": "70000000"}, headers=headers), 422, "annual_exceeds_total"
    )
    _assert_problem(client.patch(url, json={"site": BOWTIE}, headers=headers), 422, "geometry_invalid")
    after = client.get(url, headers=headers).json()
    assert after["annual_plan_yuan"] == created["annual_plan_yuan"]
    assert after["site"] == created["site"]
