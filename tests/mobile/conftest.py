"""Fixtures of the phone API tests: a new project, the inspector's login, and an S3-compatible endpoint
on loopback (moto's server: real HTTP, the S3 wire protocol) with a fresh bucket per test."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import pytest

from tests.factories import project_payload

REGION = "us-east-1"


@pytest.fixture()
def project_id(client, login, session):
    """A new project (its site is tests.factories' SEAT_POLYGON)."""
    r = client.post("/api/v1/projects", json=project_payload(session), headers=login("admin"))
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.fixture()
def inspector(login):
    """The inspector's auth headers."""
    return login("inspector")


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A local S3-compatible server for the session, with dummy credentials in the environment."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "sitewatch-test")
        env.setenv("AWS_SECRET_ACCESS_KEY", "sitewatch-test-secret")
        env.setenv("AWS_DEFAULT_REGION", REGION)
        yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture()
def s3_bucket(s3_endpoint: str):
    """(client, bucket name) of a new, empty bucket."""
    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION)
    name = f"sitewatch-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return client, name
