"""Production token mode through HTTP: RS256 only, keys from the identity provider's JWKS."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

pytestmark = pytest.mark.integration

ISSUER = "https://id.demeu.kz"


@pytest.fixture
def identity_provider():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), "kid": "idp-1", "use": "sig",
           "alg": "RS256"}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"keys": [jwk]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def sign(roles=(), **claims):
        now = int(time.time())
        body = {"sub": "citizen-7", "iss": ISSUER, "aud": "demeu", "iat": now, "exp": now + 300,
                "roles": list(roles), **claims}
        return {"Authorization": "Bearer " + jwt.encode(body, key, algorithm="RS256", headers={"kid": "idp-1"})}

    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json", sign
    server.shutdown()
    server.server_close()


def test_rs256_tokens_from_the_identity_provider_are_the_only_ones_accepted(start_platform, identity_provider):
    jwks_url, sign = identity_provider
    api = start_platform(services=("payments",), JWT_ALGORITHMS="RS256", JWKS_URL=jwks_url, JWT_ISSUER=ISSUER,
                         JWT_SECRET="")
    assert requests.get(f"{api}/v1/me/donations", headers=sign()).status_code == 200
    assert requests.get(f"{api}/v1/admin/ledger/check", headers=sign(["admin"])).status_code == 200
    assert requests.get(f"{api}/v1/admin/ledger/check", headers=sign()).status_code == 403

    refused = {
        "expired": sign(exp=int(time.time()) - 3600),
        "another audience": sign(aud="another-api"),
        "another issuer": sign(iss="https://evil.example"),
        "HS256": {"Authorization": "Bearer " + jwt.encode(
            {"sub": "x", "iss": ISSUER, "aud": "demeu", "exp": int(time.time()) + 60},
            "a-guessed-secret-of-thirty-two-bytes!", algorithm="HS256")},
    }
    for name, headers in refused.items():
        answer = requests.get(f"{api}/v1/me/donations", headers=headers)
        assert answer.status_code == 401, name
        assert answer.headers["Content-Type"].startswith("application/problem+json")
    # dev tokens are HS256: with RS256 only there is no dev issuer, even with DEMEU_DEV=1
    assert requests.post(f"{api}/v1/auth/dev-token", json={"user_id": "u"}).status_code == 404
