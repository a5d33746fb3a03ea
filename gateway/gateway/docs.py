"""OpenAPI 3.1 generated from the routes themselves and the marshmallow schemas that
validate their bodies, so the document cannot drift from the API."""
import html
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Response

from demeu_common.logs import RequestContext

from gateway.http import Route, route

PATH_PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")
PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "code": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
}
ERROR_STATUSES = {"400": "Malformed request", "401": "No or invalid token", "403": "Not allowed",
                  "404": "Not found", "409": "State conflict", "413": "Body over 1 MiB",
                  "422": "Validation failed", "429": "Rate limited", "503": "A service is down"}


def build_spec(routes):
    spec = APISpec(
        title="Demeu API", version="1.0.0", openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={"description": "Crowdfunding, patronage and the Talent Factory of Kazakhstan. "
                             "Money is integer tiyn (100 tiyn = 1 KZT); errors are problem+json."},
    )
    spec.components.schema("Problem", PROBLEM_SCHEMA)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    paths = {}
    for entry in sorted(routes, key=lambda r: (r.url, r.method)):
        if not entry.doc.get("public", True):
            continue
        path = PATH_PARAM.sub(r"{\1}", entry.url)
        operation = {
            "operationId": entry.method_name,
            "summary": entry.doc.get("summary") or entry.method_name.replace("_", " "),
            "tags": [entry.doc.get("tag") or "misc"],
            "parameters": [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                           for name in PATH_PARAM.findall(entry.url)],
            "responses": {
                str(entry.doc.get("status", 200)): {
                    "description": "Success",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
            },
        }
        for name in entry.doc.get("query") or ():
            schema = {"type": "integer", "minimum": 1, "maximum": 100} if name == "limit" else {"type": "string"}
            operation["parameters"].append({"name": name, "in": "query", "required": False, "schema": schema})
        if entry.idempotent:
            operation["parameters"].append({
                "name": "Idempotency-Key", "in": "header", "required": True,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            })
        if entry.auth == "required":
            operation["security"] = [{"bearer": []}]
        body = entry.doc.get("body")
        if body is not None:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
        for status, description in ERROR_STATUSES.items():
            operation["responses"][status] = {
                "description": description,
                "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
            }
        paths.setdefault(path, {})[entry.method.lower()] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


class ApiSpec(DependencyProvider):
    """Builds the document once per process from the container's routes."""

    def setup(self):
        self.spec = None

    def get_dependency(self, worker_ctx):
        if self.spec is None:
            self.spec = build_spec([e for e in self.container.entrypoints if isinstance(e, Route)])
        return self.spec


DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Demeu API</title>
<style>body{{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
code{{background:#f3f3f3;padding:0 .3em}} .m{{display:inline-block;width:4.5em;font-weight:bold}}
li{{margin:.2em 0}}</style></head><body>
<h1>Demeu API</h1><p>The machine-readable description is at <a href="/openapi.json">/openapi.json</a>.</p>
<ul id="endpoints">{items}</ul></body></html>"""


class DocsRoutes:
    api_spec = ApiSpec()
    # the gateway's own log lines carry the request id too (here because every
    # GatewayService includes this mixin)
    request_context = RequestContext()

    @route("GET", "/openapi.json", tag="operations", summary="This API's OpenAPI 3.1 document")
    def openapi(self, request):
        return self.api_spec

    @route("GET", "/docs", tag="operations", summary="Human-readable API docs")
    def docs(self, request):
        items = []
        for path, operations in self.api_spec["paths"].items():
            for method, operation in operations.items():
                items.append(f'<li><span class="m">{method.upper()}</span> <code>{html.escape(path)}</code> '
                             f'— {html.escape(operation.get("summary", ""))}</li>')
        page = DOCS_PAGE.format(items="\n".join(items))
        return Response(page, content_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'"})
