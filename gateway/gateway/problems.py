"""RFC 9457 problem+json: every failure the gateway answers is one of these."""
import json

from werkzeug.wrappers import Response

from demeu_common.errors import DomainError

PROBLEM_TYPE = "https://demeu.kz/problems/{}"
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"


def problem(status, code, title, detail=None, **extra):
    body = {"type": PROBLEM_TYPE.format(code.replace("_", "-")), "title": title, "status": status,
            "detail": detail or title, "code": code}
    body.update(extra)
    return body


def problem_response(status, code, title, detail=None, headers=None, **extra):
    return json_response(problem(status, code, title, detail, **extra), status, headers)


def from_domain_error(error: DomainError):
    return json_response(error.to_problem(), error.status)


def json_response(body, status=200, headers=None):
    content_type = PROBLEM_JSON if status >= 400 and isinstance(body, dict) and "code" in body else JSON
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), status=status,
                    headers=headers, content_type=f"{content_type}; charset=utf-8")
