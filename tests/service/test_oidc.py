"""OIDC bearer tokens: a key pair made here, its JWKS served over HTTP by the test, tokens
checked by PyJWT's JWKS client inside the app (nothing of the library is replaced)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from jwt.algorithms import RSAAlgorithm

from codesign_playground.config import Settings
from codesign_playground.service.main import create_app

ISSUER = "https://idp.example.org/realms/codesign"
AUDIENCE = "codesign-api"


def _key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def signing_key() -> Any:
    return _key()


@pytest.fixture(scope="module")
def jwks_url(signing_key: Any) -> Iterator[str]:
    jwk = json.loads(RSAAlgorithm.to_jwk(signing_key.public_key()))
    body = json.dumps({"keys": [jwk | {"kid": "test-1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    finally:
        server.shutdown()


@pytest.fixture
def client(tmp_path: Path, jwks_url: str) -> Iterator[TestClient]:
    settings = Settings(
        codesign_data_dir=tmp_path,
        allowed_hosts=["testserver"],
        secret_key="test-secret",
        codesign_log_level="WARNING",
        auth_mode="api-key",
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_jwks_url=jwks_url,
    )
    with TestClient(create_app(settings)) as c:
        yield c


def _token(key: Any, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "erin", "iat": now, "exp": now + 300}
    body |= {"scope": "openid codesign:write"} | claims
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "test-1"})


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_valid_token_acts_as_its_subject(client: TestClient, signing_key: Any) -> None:
    me = client.get("/api/v1/me", headers=_auth(_token(signing_key)))
    assert me.status_code == 200, me.text
    assert me.json() == {"owner": "erin", "scope": "write", "via": "oidc", "auth_mode": "api-key"}
    job = client.post(
        "/api/v1/rtl", json={"rows": 4, "cols": 4}, headers=_auth(_token(signing_key))
    )
    assert job.status_code == 202 and job.json()["owner"] == "erin"
    other = _auth(_token(signing_key, sub="frank"))
    assert client.get(f"/api/v1/jobs/{job.json()['id']}", headers=other).status_code == 404


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": int(time.time()) - 10},  # expired
        {"aud": "someone-else"},
        {"iss": "https://evil.example.org"},
    ],
)
def test_bad_tokens_are_401(client: TestClient, signing_key: Any, claims: dict[str, Any]) -> None:
    r = client.get("/api/v1/models", headers=_auth(_token(signing_key, **claims)))
    assert r.status_code == 401, r.text
    assert r.json()["detail"].startswith("Authorization: invalid token")


def test_token_from_another_key_is_401(client: TestClient) -> None:
    r = client.get("/api/v1/models", headers=_auth(_token(_key())))
    assert r.status_code == 401


def test_scopes_come_from_the_token(client: TestClient, signing_key: Any) -> None:
    none = client.get("/api/v1/models", headers=_auth(_token(signing_key, scope="openid")))
    assert none.status_code == 403 and "codesign:read" in none.json()["detail"]
    read = _auth(_token(signing_key, scope="codesign:read"))
    assert client.get("/api/v1/models", headers=read).status_code == 200
    assert client.post("/api/v1/rtl", json={"rows": 4, "cols": 4}, headers=read).status_code == 403
    admin = _auth(_token(signing_key, scope="codesign:admin"))
    assert client.get("/api/v1/keys", headers=admin).status_code == 200
