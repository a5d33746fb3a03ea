"""/openapi.json describes every route; /docs is Swagger UI served from a package, and a real
(headless) browser shows the endpoints with nothing fetched from outside."""
import os
import shutil
import subprocess

import pytest
import requests

pytestmark = pytest.mark.integration


@pytest.fixture
def api(start_platform):
    return start_platform(services=())


def test_openapi_has_examples_query_parameters_and_response_schemas(api):
    spec = requests.get(f"{api}/openapi.json").json()
    assert spec["openapi"] == "3.1.0"
    create = spec["paths"]["/v1/campaigns"]["post"]
    assert create["requestBody"]["content"]["application/json"]["example"]["goal_amount"] > 0
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Campaign"}
    assert "Location" in create["responses"]["201"]["headers"]
    donate = spec["paths"]["/v1/campaigns/{campaign_id}/donations"]["post"]
    assert donate["requestBody"]["content"]["application/json"]["example"]["payment_method"]["token"] == "tok_success"
    assert {"name", "in", "required"} <= set(next(p for p in donate["parameters"] if p["name"] == "Idempotency-Key"))
    assert "402" in donate["responses"]
    listed = {p["name"]: p for p in spec["paths"]["/v1/campaigns"]["get"]["parameters"]}
    assert listed["limit"]["schema"]["maximum"] == 100 and listed["limit"]["schema"]["minimum"] == 1
    assert "KZ-71" in listed["region"]["schema"]["enum"]
    # lists that read a page document limit and cursor even when the route did not list them
    mine = {p["name"] for p in spec["paths"]["/v1/me/donations"]["get"]["parameters"]}
    assert {"limit", "cursor"} <= mine
    assert "304" in spec["paths"]["/v1/campaigns/{campaign_id}"]["get"]["responses"]
    assert "Campaign" in spec["components"]["schemas"] and "Donation" in spec["components"]["schemas"]
    assert "/docs/static/{filename}" not in spec["paths"]
    assert spec["paths"]["/docs"]["get"]["responses"]["200"]["content"].keys() == {"text/html"}


def test_docs_page_and_its_files_come_from_the_gateway(api):
    page = requests.get(f"{api}/docs")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp and "http" not in csp
    assert "/docs/static/swagger-ui-bundle.js" in page.text
    script = requests.get(f"{api}/docs/static/swagger-ui-bundle.js")
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]
    assert requests.get(f"{api}/docs/static/swagger-ui-bundle.js",
                        headers={"If-None-Match": script.headers["ETag"]}).status_code == 304
    assert requests.get(f"{api}/docs/static/demeu-docs.js").text.count("/openapi.json") == 1
    # only the files the page needs; nothing else of the package, nothing outside it
    for name in ("LICENSE", "index.html", "..%2F__init__.py", "swagger-editor.js"):
        assert requests.get(f"{api}/docs/static/{name}").status_code == 404
    # the relaxed policy is for /docs only
    assert requests.get(f"{api}/v1/regions").headers["Content-Security-Policy"].startswith("default-src 'none'")


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.mark.skipif(chromium() is None, reason="chromium is not installed (apt-get install chromium)")
def test_the_docs_page_lists_the_endpoints_in_a_headless_browser(api, tmp_path):
    run = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-extensions", "--disable-sync", "--no-first-run",
         "--enable-logging=stderr", "--v=0", f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=15000", "--dump-dom", f"{api}/docs"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)},
    )
    dom = run.stdout
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Demeu API" in dom, dom[-2000:]
    for path in ("/v1/campaigns", "/v1/campaigns/{campaign_id}/donations", "/v1/donations/{donation_id}",
                 "/v1/me/notifications", "/health"):
        assert f'data-path="{path}"' in dom, path
    assert "Unable to render" not in dom
    assert "Refused to" not in run.stderr  # no CSP violation


def test_without_the_bundle_docs_is_still_a_list_of_endpoints(api, monkeypatch):
    import gateway.docs

    monkeypatch.setattr(gateway.docs, "swagger_ui_dir", lambda: None)
    page = requests.get(f"{api}/docs")
    assert page.status_code == 200 and "<code>/v1/campaigns</code>" in page.text
    assert "script-src" not in page.headers["Content-Security-Policy"]
