"""Bearer tokens: who is calling, and with which roles.

The accepted algorithms come from configuration (``JWT_ALGORITHMS``), never from the token:
HS256 with a shared secret in development, RS256 with the identity provider's keys in
production, fetched from ``JWKS_URL`` and cached for ``JWKS_CACHE_SECONDS`` (a token signed
with a key the cache does not know makes it fetch the set again, so a rotated key is picked
up; a key removed from the set stops being accepted once the cache expires). ``exp``,
``iss``, ``aud`` and ``sub`` are required and checked; ``alg: none`` can never pass, and a
symmetric algorithm is never verified with a public key nor the reverse.

Every refusal is a 401 problem with ``code: unauthorized``; an identity provider whose key
set cannot be fetched is a 503 (the token may well be good).
"""
import time

import jwt

from demeu_common.reference import LOCALES

ROLES = ("moderator", "mentor", "admin", "subscriber")
ANONYMOUS = {"user_id": None, "roles": [], "email": None, "locale": None}
SYMMETRIC = {"HS256", "HS384", "HS512"}
ASYMMETRIC = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
LEEWAY_SECONDS = 30


def _problem(detail):
    from gateway.http import HttpProblem

    return HttpProblem(401, "unauthorized", "Unauthorized", detail,
                       headers={"WWW-Authenticate": 'Bearer realm="demeu", error="invalid_token"'})


def _config_list(value, default):
    if isinstance(value, (list, tuple)):
        items = value
    else:
        items = str(value or default).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def _number(config, name, default):
    value = config.get(name)
    return default if value in (None, "") else float(value)


class TokenVerifier:
    def __init__(self, config):
        self.algorithms = _config_list(config.get("JWT_ALGORITHMS"), "HS256")
        unknown = set(self.algorithms) - SYMMETRIC - ASYMMETRIC
        if unknown:  # "none" included: it is neither
            raise ValueError(f"JWT_ALGORITHMS has algorithms that cannot be accepted: {sorted(unknown)}")
        self.secret = config.get("JWT_SECRET") or None
        if set(self.algorithms) & SYMMETRIC and not self.secret:
            raise ValueError("JWT_ALGORITHMS accepts HS* but JWT_SECRET is empty")
        self.issuer = config.get("JWT_ISSUER") or "demeu-dev"
        self.audience = config.get("JWT_AUDIENCE") or "demeu"
        self.ttl = int(config.get("DEV_TOKEN_TTL") or 3600)
        jwks_url = config.get("JWKS_URL") or None
        self.jwks = None
        if jwks_url:
            # The key *set* is cached with a lifespan; single keys are not cached forever
            # (cache_keys=False), so a key the provider withdrew stops working.
            self.jwks = jwt.PyJWKClient(
                jwks_url, cache_keys=False, cache_jwk_set=True,
                lifespan=_number(config, "JWKS_CACHE_SECONDS", 300),
                timeout=_number(config, "JWKS_TIMEOUT", 5),
                # an unknown kid refetches the set at most this often: a flood of made-up
                # kids cannot turn the gateway into a flood on the identity provider
                cooldown_duration=_number(config, "JWKS_REFRESH_COOLDOWN", 30),
            )

    def actor_from(self, request, required):
        header = request.headers.get("Authorization", "")
        if not header:
            if required:
                raise _problem("This needs a bearer token.")
            return dict(ANONYMOUS)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _problem("Use the Bearer scheme.")
        return self.verify(token.strip())

    def verify(self, token):
        """The actor a token names, or a 401 ``HttpProblem``."""
        try:
            algorithm, key = self._key_for(token)
            claims = jwt.decode(
                token, key, algorithms=[algorithm], audience=self.audience, issuer=self.issuer,
                options={"require": ["exp", "iss", "aud", "sub"], "verify_signature": True},
                leeway=LEEWAY_SECONDS,
            )
        except jwt.PyJWKClientConnectionError:
            from gateway.http import HttpProblem

            raise HttpProblem(503, "identity_provider_unavailable", "Identity provider unavailable",
                              "The identity provider's signing keys could not be fetched; retry shortly.",
                              headers={"Retry-After": "5"})
        except jwt.ExpiredSignatureError:
            raise _problem("The token has expired.")
        except jwt.InvalidAudienceError:
            raise _problem("The token is not meant for this API (audience).")
        except jwt.InvalidIssuerError:
            raise _problem("The token was not issued by a trusted issuer.")
        except jwt.InvalidSignatureError:
            raise _problem("The token's signature does not verify.")
        except jwt.PyJWTError as error:
            raise _problem(f"The token is not valid: {error}.")
        if not isinstance(claims.get("sub"), str) or not claims["sub"].strip() or len(claims["sub"]) > 128:
            raise _problem("The token's subject is not a user id.")
        roles = claims.get("roles") or []
        if not isinstance(roles, list):
            roles = []
        locale = claims.get("locale") if claims.get("locale") in LOCALES else None
        email = claims.get("email") if isinstance(claims.get("email"), str) else None
        return {"user_id": claims["sub"], "roles": [r for r in roles if r in ROLES],
                "email": email, "locale": locale}

    def _key_for(self, token):
        """The one algorithm this token may be checked with, and its key. The header only
        selects among the configured algorithms; it never widens them."""
        header = jwt.get_unverified_header(token)
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self.algorithms:
            raise jwt.InvalidAlgorithmError(f"the algorithm {algorithm!r} is not accepted")
        if algorithm in SYMMETRIC:
            return algorithm, self.secret
        if self.jwks is None:
            raise jwt.InvalidKeyError("no key set is configured for asymmetric tokens")
        signing_key = self.jwks.get_signing_key_from_jwt(token)
        declared = (getattr(signing_key, "_jwk_data", None) or {}).get("alg")
        if declared and declared != algorithm:
            raise jwt.InvalidAlgorithmError("the key is published for another algorithm")
        return algorithm, signing_key.key

    def issue_dev_token(self, user_id, roles, email=None, locale=None):
        if "HS256" not in self.algorithms:
            from gateway.http import HttpProblem

            raise HttpProblem(404, "not_found", "Not found", "Development tokens are not accepted here.")
        now = int(time.time())
        claims = {"sub": user_id, "roles": roles, "iss": self.issuer, "aud": self.audience,
                  "iat": now, "exp": now + self.ttl}
        if email:
            claims["email"] = email
        if locale:
            claims["locale"] = locale
        return jwt.encode(claims, self.secret, algorithm="HS256"), self.ttl
