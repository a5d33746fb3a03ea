"""TokenVerifier: the algorithms come from configuration, never from the token; exp, iss,
aud and the signature are always checked; every refusal is a 401 problem."""
import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.auth import TokenVerifier
from gateway.http import HttpProblem

SECRET = "unit-test-secret-that-is-long-enough-for-hs256"
DEV_CONFIG = {"JWT_ALGORITHMS": "HS256", "JWT_SECRET": SECRET, "JWT_ISSUER": "demeu-dev",
              "JWT_AUDIENCE": "demeu"}


def claims(**overrides):
    now = int(time.time())
    body = {"sub": "user-1", "iss": "demeu-dev", "aud": "demeu", "iat": now, "exp": now + 600,
            "roles": ["moderator", "superuser"]}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def assert_unauthorized(verifier, token, detail_part=None):
    with pytest.raises(HttpProblem) as caught:
        verifier.verify(token)
    assert caught.value.status == 401 and caught.value.code == "unauthorized"
    assert caught.value.headers["WWW-Authenticate"].startswith("Bearer")
    if detail_part:
        assert detail_part in caught.value.detail
    response = caught.value.response()
    assert response.status_code == 401 and response.mimetype == "application/problem+json"


@pytest.fixture
def hs256():
    return TokenVerifier(DEV_CONFIG)


def test_a_good_hs256_token_names_the_user_and_only_known_roles(hs256):
    actor = hs256.verify(jwt.encode(claims(email="a@b.kz", locale="kk"), SECRET, algorithm="HS256"))
    assert actor == {"user_id": "user-1", "roles": ["moderator"], "email": "a@b.kz", "locale": "kk"}


def test_alg_none_is_refused(hs256):
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims())}."
    assert_unauthorized(hs256, unsigned, "not accepted")
    # also with a signature-looking tail, and with the capitalised spelling
    assert_unauthorized(hs256, f"{b64({'alg': 'None'})}.{b64(claims())}.c2ln")


def test_a_wrong_signature_is_refused(hs256):
    forged = jwt.encode(claims(roles=["admin"]), "another-secret-of-a-sufficient-length!!", algorithm="HS256")
    assert_unauthorized(hs256, forged, "signature")
    header, payload, signature = jwt.encode(claims(), SECRET, algorithm="HS256").split(".")
    tampered_payload = b64(claims(roles=["admin"]))
    assert_unauthorized(hs256, f"{header}.{tampered_payload}.{signature}", "signature")


def test_an_expired_token_is_refused(hs256):
    now = int(time.time())
    assert_unauthorized(hs256, jwt.encode(claims(iat=now - 7200, exp=now - 3600), SECRET, algorithm="HS256"),
                        "expired")


def test_a_token_for_another_audience_is_refused(hs256):
    assert_unauthorized(hs256, jwt.encode(claims(aud="someone-else"), SECRET, algorithm="HS256"), "audience")


def test_a_token_from_another_issuer_is_refused(hs256):
    assert_unauthorized(hs256, jwt.encode(claims(iss="evil-idp"), SECRET, algorithm="HS256"), "issuer")


@pytest.mark.parametrize("missing", ["exp", "iss", "aud", "sub"])
def test_a_token_missing_a_required_claim_is_refused(hs256, missing):
    assert_unauthorized(hs256, jwt.encode(claims(**{missing: None}), SECRET, algorithm="HS256"))


def test_garbage_and_non_bearer_headers_are_refused(hs256):
    assert_unauthorized(hs256, "x.y.z")
    assert_unauthorized(hs256, "not-a-jwt")

    class FakeRequest:
        headers = {"Authorization": "Basic dXNlcjpwYXNz"}

    with pytest.raises(HttpProblem) as caught:
        hs256.actor_from(FakeRequest(), required=False)
    assert caught.value.status == 401


def test_an_algorithm_not_configured_is_refused_even_if_well_signed(hs256):
    assert_unauthorized(hs256, jwt.encode(claims(), SECRET, algorithm="HS512"), "not accepted")


def test_configuration_cannot_accept_none_or_hs_without_a_secret():
    with pytest.raises(ValueError):
        TokenVerifier({**DEV_CONFIG, "JWT_ALGORITHMS": "HS256,none"})
    with pytest.raises(ValueError):
        TokenVerifier({**DEV_CONFIG, "JWT_SECRET": ""})


def test_no_token_is_anonymous_unless_required(hs256):
    class FakeRequest:
        headers = {}

    assert hs256.actor_from(FakeRequest(), required=False)["user_id"] is None
    with pytest.raises(HttpProblem) as caught:
        hs256.actor_from(FakeRequest(), required=True)
    assert caught.value.status == 401


# --- RS256 with keys from a JWKS URL ---------------------------------------------------------

def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk_of(private_key, kid):
    data = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    return {**data, "kid": kid, "use": "sig", "alg": "RS256"}


class JwksServer:
    """A local identity provider's key endpoint: serves whatever ``keys`` holds, counts hits."""

    def __init__(self):
        self.keys = []
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits += 1
                body = json.dumps({"keys": outer.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def jwks():
    server = JwksServer()
    yield server
    server.close()


def rs256_verifier(jwks, **extra):
    return TokenVerifier({"JWT_ALGORITHMS": "RS256", "JWKS_URL": jwks.url, "JWT_ISSUER": "https://id.demeu.kz",
                          "JWT_AUDIENCE": "demeu", "JWKS_REFRESH_COOLDOWN": 0, **extra})


def rs256(private_key, kid, **overrides):
    return jwt.encode(claims(iss="https://id.demeu.kz", **overrides), private_key, algorithm="RS256",
                      headers={"kid": kid})


def test_rs256_tokens_verify_against_the_jwks_and_the_set_is_cached(jwks):
    key = rsa_key()
    jwks.keys = [jwk_of(key, "k1")]
    verifier = rs256_verifier(jwks)
    assert verifier.verify(rs256(key, "k1"))["user_id"] == "user-1"
    assert verifier.verify(rs256(key, "k1", sub="user-2"))["user_id"] == "user-2"
    assert jwks.hits == 1


def test_a_rotated_key_is_fetched_and_a_withdrawn_one_stops_working(jwks):
    old, new = rsa_key(), rsa_key()
    jwks.keys = [jwk_of(old, "k-old")]
    verifier = rs256_verifier(jwks, JWKS_CACHE_SECONDS=0.5)
    assert verifier.verify(rs256(old, "k-old"))
    jwks.keys = [jwk_of(new, "k-new")]  # the provider rotates
    assert verifier.verify(rs256(new, "k-new"))["user_id"] == "user-1"
    assert jwks.hits == 2
    time.sleep(0.6)  # once the cached set expires, the old key is gone
    assert_unauthorized(verifier, rs256(old, "k-old"))


def test_rs256_signed_by_a_key_not_in_the_set_is_refused(jwks):
    published, attacker = rsa_key(), rsa_key()
    jwks.keys = [jwk_of(published, "k1")]
    verifier = rs256_verifier(jwks)
    assert_unauthorized(verifier, rs256(attacker, "k1"), "signature")  # same kid, wrong key
    assert_unauthorized(verifier, rs256(attacker, "unknown-kid"))


def test_rs256_checks_exp_aud_and_iss_too(jwks):
    key = rsa_key()
    jwks.keys = [jwk_of(key, "k1")]
    verifier = rs256_verifier(jwks)
    now = int(time.time())
    assert_unauthorized(verifier, rs256(key, "k1", exp=now - 3600), "expired")
    assert_unauthorized(verifier, rs256(key, "k1", aud="other"), "audience")
    assert_unauthorized(verifier, jwt.encode(claims(iss="https://evil"), key, algorithm="RS256",
                                             headers={"kid": "k1"}), "issuer")


def test_hs256_signed_with_the_public_key_cannot_pass_an_rs256_verifier(jwks):
    """The classic confusion: the attacker uses the published public key as an HMAC secret."""
    key = rsa_key()
    jwks.keys = [jwk_of(key, "k1")]
    verifier = rs256_verifier(jwks)
    public_pem = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())
    header = b64({"alg": "HS256", "kid": "k1", "typ": "JWT"})
    payload = b64(claims(iss="https://id.demeu.kz"))
    import hashlib
    import hmac

    signature = base64.urlsafe_b64encode(
        hmac.new(public_pem.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    ).rstrip(b"=").decode()
    assert_unauthorized(verifier, f"{header}.{payload}.{signature}", "not accepted")
    assert_unauthorized(verifier, f"{b64({'alg': 'none', 'kid': 'k1'})}.{payload}.")


def test_an_unreachable_jwks_is_a_503_not_a_401():
    verifier = TokenVerifier({"JWT_ALGORITHMS": "RS256", "JWKS_URL": "http://127.0.0.1:9/jwks.json",
                              "JWKS_TIMEOUT": 1})
    token = jwt.encode(claims(), rsa_key(), algorithm="RS256", headers={"kid": "k1"})
    with pytest.raises(HttpProblem) as caught:
        verifier.verify(token)
    assert caught.value.status == 503 and caught.value.headers["Retry-After"]


def test_dev_tokens_are_only_issued_when_hs256_is_accepted(jwks):
    with pytest.raises(HttpProblem) as caught:
        rs256_verifier(jwks).issue_dev_token("u", [])
    assert caught.value.status == 404
    token, ttl = TokenVerifier(DEV_CONFIG).issue_dev_token("u", ["admin"])
    assert TokenVerifier(DEV_CONFIG).verify(token)["roles"] == ["admin"]
