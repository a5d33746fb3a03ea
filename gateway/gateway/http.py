"""The gateway's HTTP layer: one entrypoint class that knows the API's conventions, so each
route only says what it does.

Everything cross-cutting happens here once: request ids (in and out, and in every log line
of the gateway and of the services it calls), the per-IP rate limit (before anything else,
unknown routes and bad tokens included), the 1 MiB body limit (declared or chunked, enforced
while reading, before parsing), JSON parsing, authentication and role checks declared on the
route, per-user rate limits, Idempotency-Key presence, problem+json for every error (unknown
routes and wrong methods included), security headers and CORS, ETags and ``304 Not
Modified`` on reads, and the mapping of domain errors raised by services.
"""
import hashlib
import io
import ipaddress
import json
import logging
import re
import uuid

from nameko.exceptions import MethodNotFound, RemoteError
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.wrappers import Request, Response

from demeu_common.errors import DomainError
from demeu_common.logs import set_request_id

from gateway.problems import from_domain_error, json_response, problem_response

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
MAX_URL_BYTES = 32 * 1024
REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")
SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
    ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
]
CORS_ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key, If-None-Match, X-Request-ID"
CORS_EXPOSE_HEADERS = "X-Request-ID, Retry-After, Location, ETag"


class HttpProblem(Exception):
    """Raised by the HTTP layer itself (not by a service) to answer with a problem."""

    def __init__(self, status, code, title, detail=None, headers=None, **extra):
        super().__init__(detail or title)
        self.status, self.code, self.title, self.detail = status, code, title, detail
        self.headers, self.extra = headers, extra

    def response(self):
        return problem_response(self.status, self.code, self.title, self.detail, self.headers, **self.extra)


def trusted_networks(raw):
    """``TRUSTED_PROXIES``: comma-separated addresses or CIDR blocks of our own balancers."""
    if isinstance(raw, (list, tuple)):
        items = raw
    else:
        items = str(raw or "").split(",")
    return [ipaddress.ip_network(item.strip(), strict=False) for item in items if str(item).strip()]


def _is_trusted(address, networks):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(environ, trusted):
    """The caller's address for per-IP limits: the socket's peer, unless that peer is one of
    our trusted proxies; then the right-most X-Forwarded-For entry that is not (each proxy
    appends the address it saw, so entries left of the last untrusted one may be forged)."""
    remote = environ.get("REMOTE_ADDR") or "unknown"
    if not trusted or not _is_trusted(remote, trusted):
        return remote
    forwarded = [a.strip() for a in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    for address in reversed(forwarded):
        if not _is_trusted(address, trusted):
            return address
    return forwarded[0] if forwarded else remote


def too_large():
    return HttpProblem(413, "payload_too_large", "Payload too large",
                       f"Bodies are limited to {MAX_BODY_BYTES} bytes.")


class ApiWsgiApp(WsgiApp):
    def __call__(self, environ, start_response):
        request_id = environ.get("HTTP_X_REQUEST_ID", "")
        if not REQUEST_ID.match(request_id):
            request_id = uuid.uuid4().hex
        environ["demeu.request_id"] = request_id
        set_request_id(request_id)
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            # eventlet decodes chunked bodies and ends the stream itself, so the body may
            # be read (werkzeug would otherwise see none); _read_body stops past the limit
            environ["wsgi.input_terminated"] = True

        def with_headers(status, headers, exc_info=None):
            names = {name.lower() for name, _ in headers}
            headers = list(headers) + [("X-Request-ID", request_id)]
            headers += [(n, v) for n, v in SECURITY_HEADERS if n.lower() not in names]
            headers += self.server.cors_headers(environ)
            return start_response(status, headers, exc_info)

        request = Request(environ, shallow=True)
        try:
            environ["demeu.client_ip"] = client_ip(environ, self.server.trusted_proxies)
            self.server.limiter.check_ip(environ["demeu.client_ip"])
            length = request.content_length
            if length is not None and length > MAX_BODY_BYTES:
                raise too_large()
            if request.method == "OPTIONS":
                return Response(status=204)(environ, with_headers)
            adapter = self.url_map.bind_to_environ(environ)
            provider, values = adapter.match()
            request.path_values = values
            request.url_adapter = adapter
            response = provider.handle_request(request)
        except HttpProblem as problem:
            response = problem.response()
        except MethodNotAllowed as exc:
            response = problem_response(405, "method_not_allowed", "Method not allowed",
                                        f"{request.method} is not allowed here.",
                                        headers={"Allow": ", ".join(exc.valid_methods or [])})
        except NotFound:
            response = problem_response(404, "not_found", "Not found", "No such resource.")
        except HTTPException as exc:
            response = problem_response(exc.code or 400, "http_error", exc.name, exc.description)
        except Exception:  # a bug in this layer: still a problem+json, still with the request id
            log.exception("unhandled error before routing %s %s", request.method, request.path)
            response = problem_response(500, "internal_error", "Internal error",
                                        "Something went wrong on our side; nothing was changed by this answer.")
        # The id stays set for this connection's greenthread until its next request, so
        # the server's access-log line for this request carries it too.
        return response(environ, with_headers)


class ApiServer(WebServer):
    """Nameko's web server, shared by all routes of the container, plus what every request
    needs once per process: the token verifier and the rate limiter."""

    def setup(self):
        from gateway.auth import TokenVerifier
        from gateway.limits import RateLimiter

        super().setup()
        self.verifier = TokenVerifier(self.container.config)
        self.limiter = RateLimiter.from_config(self.container.config)
        self.trusted_proxies = trusted_networks(self.container.config.get("TRUSTED_PROXIES"))

    def get_wsgi_app(self):
        return ApiWsgiApp(self)

    def get_wsgi_server(self, sock, wsgi_app, *args, **kwargs):
        server = super().get_wsgi_server(sock, wsgi_app, *args, **kwargs)
        # eventlet answers a request line past this with a bare 414 before the app sees it;
        # 32 KiB lets over-long query parameters reach the app and get a 422 that says which.
        server.url_length_limit = MAX_URL_BYTES
        return server

    def context_data_from_headers(self, request):
        # Nameko copies context data into every RPC the worker makes: services log it.
        return {"request_id": request.environ.get("demeu.request_id")}

    def cors_headers(self, environ):
        origin = environ.get("HTTP_ORIGIN")
        allowed = getattr(self, "_cors_origins", None)
        if allowed is None:
            raw = (self.container.config.get("CORS_ORIGINS") or "") if self.container else ""
            allowed = self._cors_origins = {o.strip() for o in str(raw).split(",") if o.strip()}
        if origin and origin in allowed:
            return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin"),
                    ("Access-Control-Allow-Headers", CORS_ALLOW_HEADERS),
                    ("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE"),
                    ("Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS),
                    ("Access-Control-Max-Age", "600")]
        return [("Vary", "Origin")] if origin else []


class Route(HttpRequestHandler):
    """``@route("POST", "/v1/campaigns", auth="required", roles=(), idempotent=False,
    summary=..., body=Schema, tag=...)``: the handler is called as
    ``handler(self, request, **path_values)`` with ``request.actor`` (or None) and
    ``request.json_body`` set, and returns a dict/list (200), ``(status, body)``,
    ``(status, body, headers)`` or a werkzeug ``Response``."""

    server = ApiServer()

    def __init__(self, method, url, auth="optional", roles=(), idempotent=False, summary=None,
                 body=None, query=None, tag=None, status=200, public=True, dev_token=False,
                 produces="application/json", **kwargs):
        self.auth, self.roles, self.idempotent = auth, tuple(roles), idempotent
        self.dev_token = dev_token
        # refusals are answers, not crashes: logged as warnings
        kwargs.setdefault("expected_exceptions", (DomainError, HttpProblem))
        self.doc = {"summary": summary, "body": body, "query": query, "tag": tag, "status": status,
                    "public": public, "produces": produces}
        super().__init__(method, url, **kwargs)

    def handle_request(self, request):
        request.shallow = False
        try:
            self._prepare(request)
        except HttpProblem as problem:
            return problem.response()
        except DomainError as error:
            return from_domain_error(error)
        response = super().handle_request(request)
        if request.method in ("GET", "HEAD") and response.status_code == 200:
            response = with_etag(request, response)
        elif response.status_code == 201 and "Location" not in response.headers:
            with_location(request, response)
        return response

    def _prepare(self, request):
        request.verifier = self.server.verifier
        request.actor = self.server.verifier.actor_from(request, required=self.auth == "required")
        # counted before the role check: knocking on doors one may not open costs tokens too
        self.server.limiter.check(request, request.actor, money=self.idempotent, dev_token=self.dev_token)
        if self.roles and not (set(self.roles) & set(request.actor["roles"])):
            raise HttpProblem(403, "forbidden", "Forbidden",
                              f"This needs one of the roles: {', '.join(self.roles)}.")
        if self.idempotent:
            key = request.headers.get("Idempotency-Key")
            if not key or not (1 <= len(key) <= 255):
                raise HttpProblem(400, "idempotency_key_required", "Idempotency-Key required",
                                  "Send an Idempotency-Key header (1–255 characters) with this request.")
            request.idempotency_key = key
        _check_text(request)
        request.json_body = _parse_json(request) if request.method in ("POST", "PUT", "PATCH") else None

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        headers = None
        if isinstance(result, tuple):
            status, body, *rest = result
            headers = rest[0] if rest else None
        else:
            status, body = 200, result
        if status == 204:
            return Response(status=204, headers=headers)
        return json_response(body, status, headers)

    def response_from_exception(self, exc):
        if isinstance(exc, DomainError):
            return from_domain_error(exc)
        if isinstance(exc, HttpProblem):
            return exc.response()
        if isinstance(exc, MethodNotFound):  # a service older than this gateway, mid-deploy
            log.error("a service lacks a method %s %s needs: %s", self.method, self.url, exc)
            return problem_response(503, "service_unavailable", "Service unavailable",
                                    "A service this needs is not ready for it yet; retry shortly.",
                                    headers={"Retry-After": "5"})
        if isinstance(exc, RemoteError):  # a service failed unexpectedly: not the gateway's bug
            log.error("a service failed in %s %s: %s", self.method, self.url, exc)
            return problem_response(502, "upstream_error", "Upstream error",
                                    "A service failed to answer this request; nothing is known to have changed.")
        log.error("unhandled error in %s %s", self.method, self.url, exc_info=exc)
        return problem_response(500, "internal_error", "Internal error",
                                "Something went wrong on our side; nothing was changed by this answer.")


def with_location(request, response):
    """A 201 whose route did not say where the new thing lives gets ``Location`` anyway when
    the API has a read for it right below the collection it was posted to (``POST /v1/x`` →
    ``GET /v1/x/{id}``)."""
    try:
        new_id = json.loads(response.get_data()).get("id")
    except (ValueError, AttributeError):
        return
    adapter = getattr(request, "url_adapter", None)
    if not isinstance(new_id, str) or not new_id or adapter is None or "/" in new_id:
        return
    candidate = f"{request.path.rstrip('/')}/{new_id}"
    try:
        adapter.match(candidate, method="GET")
    except HTTPException:
        return
    response.headers["Location"] = candidate


def with_etag(request, response):
    """A strong ETag on every successful read (the hash of the exact bytes); a client that
    sends it back in If-None-Match gets 304 with no body. Reads may differ per caller, so
    caches must keep them private and revalidate."""
    if response.direct_passthrough:
        return response
    etag, weak = response.get_etag()
    if not etag:
        etag = hashlib.sha256(response.get_data()).hexdigest()[:32]
        response.set_etag(etag)
        response.headers.setdefault("Cache-Control", "private, no-cache")
        response.vary.add("Authorization")
    if request.if_none_match.contains_weak(etag):  # weak comparison, "*" included (RFC 9110)
        return Response(status=304, headers=[
            (name, value) for name, value in response.headers.items()
            if name.lower() in ("etag", "cache-control", "vary")])
    return response


def _read_body(request):
    """The body, at most MAX_BODY_BYTES of it: a declared Content-Length is checked before
    reading, a chunked body is read until it passes the limit and no further. What was read
    replaces the stream, so a handler's own ``get_data()`` sees it and reads nothing more."""
    length = request.content_length
    if length is not None:
        if length > MAX_BODY_BYTES:
            raise too_large()
        raw = request.get_data(cache=True)
    elif request.environ.get("wsgi.input_terminated"):
        stream, chunks, size = request.environ["wsgi.input"], [], 0
        while True:
            chunk = stream.read(min(65536, MAX_BODY_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise too_large()
        raw = b"".join(chunks)
        request.stream = io.BytesIO(raw)
    else:
        raw = b""
    return raw


def _bad_text(value):
    """NUL characters and unpaired surrogates are valid JSON but no database (nor person)
    can store them: refused at the door rather than crashing a service."""
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


BAD_TEXT = "Must be text without NUL characters or unpaired surrogates."


def _check_text(request):
    for name, value in (request.path_values or {}).items():
        if isinstance(value, str) and _bad_text(value):
            raise HttpProblem(404, "not_found", "Not found", "No such resource.")
    errors = {name: [BAD_TEXT] for name, value in request.args.items(multi=True)
              if _bad_text(name) or _bad_text(value)}
    if errors:
        raise HttpProblem(422, "validation_failed", "Validation failed",
                          "One or more query parameters are invalid.", errors=errors)


def _check_json_text(body):
    """Walks the parsed body without recursion (it may be nested thousands deep)."""
    errors, stack = {}, [("", body)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if _bad_text(value):
                errors.setdefault(path or "_schema", [BAD_TEXT])
        elif isinstance(value, dict):
            for key, inner in value.items():
                if _bad_text(key):
                    errors.setdefault(path or "_schema", [BAD_TEXT])
                else:
                    stack.append((f"{path}.{key}" if path else key, inner))
        elif isinstance(value, list):
            stack.extend((f"{path}.{index}" if path else str(index), inner) for index, inner in enumerate(value))
    if errors:
        raise HttpProblem(422, "validation_failed", "Validation failed", "One or more fields are invalid.",
                          errors=dict(sorted(errors.items())[:20]))


def _parse_json(request):
    raw = _read_body(request)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise HttpProblem(400, "malformed_json", "Malformed JSON", f"The body is not valid JSON: {error}")
    except RecursionError:
        raise HttpProblem(400, "malformed_json", "Malformed JSON", "The body is nested too deeply.")
    _check_json_text(body)
    return body


route = Route.decorator
