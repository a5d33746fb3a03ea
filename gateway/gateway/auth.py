"""Bearer tokens: who is calling, and with which roles.

The accepted algorithms come from configuration, never from the token: HS256 with a shared
secret in development, RS256 with the identity provider's keys (JWKS, cached) in production.
``exp``, ``iss`` and ``aud`` are always checked; ``alg: none`` can never pass.
"""
import time

import jwt

from demeu_common.reference import LOCALES

ROLES = ("moderator", "mentor", "admin", "subscriber")
ANONYMOUS = {"user_id": None, "roles": [], "email": None, "locale": None}


def _problem(detail):
    from gateway.http import HttpProblem

    return HttpProblem(401, "unauthorized", "Unauthorized", detail,
                       headers={"WWW-Authenticate": 'Bearer realm="demeu"'})


class TokenVerifier:
    def __init__(self, config):
        self.algorithms = [a.strip() for a in str(config.get("JWT_ALGORITHMS") or "HS256").split(",") if a.strip()]
        if "none" in {a.lower() for a in self.algorithms}:
            raise ValueError("JWT_ALGORITHMS may not include none")
        self.secret = config.get("JWT_SECRET")
        self.issuer = config.get("JWT_ISSUER") or "demeu-dev"
        self.audience = config.get("JWT_AUDIENCE") or "demeu"
        self.ttl = int(config.get("DEV_TOKEN_TTL") or 3600)
        jwks_url = config.get("JWKS_URL")
        self.jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300) if jwks_url else None

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
        try:
            key = self._key_for(token)
            claims = jwt.decode(
                token, key, algorithms=self.algorithms, audience=self.audience, issuer=self.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]}, leeway=30,
            )
        except jwt.PyJWTError as error:
            raise _problem(f"The token is not valid: {error}.")
        roles = claims.get("roles") or []
        if not isinstance(roles, list):
            roles = []
        locale = claims.get("locale") if claims.get("locale") in LOCALES else None
        return {"user_id": str(claims["sub"]), "roles": [r for r in roles if r in ROLES],
                "email": claims.get("email"), "locale": locale}

    def _key_for(self, token):
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in self.algorithms:
            raise jwt.InvalidAlgorithmError("algorithm not accepted")
        if header["alg"].startswith("HS"):
            return self.secret
        if self.jwks is None:
            raise jwt.InvalidKeyError("no key set configured")
        return self.jwks.get_signing_key_from_jwt(token).key

    def issue_dev_token(self, user_id, roles, email=None, locale=None):
        now = int(time.time())
        claims = {"sub": user_id, "roles": roles, "iss": self.issuer, "aud": self.audience,
                  "iat": now, "exp": now + self.ttl}
        if email:
            claims["email"] = email
        if locale:
            claims["locale"] = locale
        return jwt.encode(claims, self.secret, algorithm="HS256"), self.ttl
