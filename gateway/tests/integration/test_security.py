"""Security of the public API, tried the way an attacker would: other people's objects,
routes above one's role, fields a client may not set, oversized bodies, floods."""
import time

import pytest
import requests

from demeu_common.testing import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def api(start_platform):
    return start_platform()


def live_campaign(api, owner, moderator, body):
    created = requests.post(f"{api}/v1/campaigns", headers=owner, json=body)
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    assert requests.post(f"{api}/v1/campaigns/{campaign_id}/submit", headers=owner).status_code == 200
    approved = requests.post(f"{api}/v1/campaigns/{campaign_id}/approve", headers=moderator)
    assert approved.status_code == 200, approved.text
    return campaign_id


def donate(api, donor, target, key, **extra):
    return requests.post(f"{api}/v1/campaigns/{target}/donations",
                         headers={**donor, "Idempotency-Key": key},
                         json={"amount": 10_000, "payment_method": {"type": "card", "token": "tok_success"},
                               **extra})


def assert_not_found(answer):
    assert answer.status_code == 404, (answer.request.method, answer.request.url, answer.status_code, answer.text)
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert answer.json()["status"] == 404


def test_strangers_get_404_for_every_object_they_may_not_see(api, bearer, campaign_body):
    owner, stranger = bearer(api, "owner-1"), bearer(api, "stranger-1")
    moderator, donor = bearer(api, "mod-1", "moderator"), bearer(api, "donor-1")

    draft = requests.post(f"{api}/v1/campaigns", headers=owner, json=campaign_body).json()
    for anyone in (stranger, {}):
        assert_not_found(requests.get(f"{api}/v1/campaigns/{draft['id']}", headers=anyone))
        assert_not_found(requests.get(f"{api}/v1/campaigns/{draft['id']}/donations", headers=anyone))
        assert_not_found(requests.get(f"{api}/v1/campaigns/{draft['id']}/ledger", headers=anyone))
    assert_not_found(requests.get(f"{api}/v1/campaigns/{draft['id']}/moderation", headers=stranger))
    assert_not_found(requests.patch(f"{api}/v1/campaigns/{draft['id']}", headers=stranger, json={"title": "Mine now!"}))
    assert_not_found(requests.post(f"{api}/v1/campaigns/{draft['id']}/submit", headers=stranger))
    assert_not_found(donate(api, stranger, draft["id"], "draft-gift"))
    assert requests.get(f"{api}/v1/campaigns/{draft['id']}", headers=owner).status_code == 200
    listed = requests.get(f"{api}/v1/campaigns", headers=stranger).json()["items"]
    assert draft["id"] not in [c["id"] for c in listed]

    campaign_id = live_campaign(api, owner, moderator, campaign_body)
    # live: the campaign is public, its moderation history is not
    assert requests.get(f"{api}/v1/campaigns/{campaign_id}", headers=stranger).status_code == 200
    assert_not_found(requests.get(f"{api}/v1/campaigns/{campaign_id}/moderation", headers=stranger))
    assert requests.get(f"{api}/v1/campaigns/{campaign_id}/moderation", headers=owner).status_code == 200

    donation = donate(api, donor, campaign_id, "gift-1")
    assert donation.status_code == 201, donation.text
    donation_id = donation.json()["id"]
    assert_not_found(requests.get(f"{api}/v1/donations/{donation_id}", headers=stranger))
    assert_not_found(requests.get(f"{api}/v1/donations/{donation_id}", headers=owner))  # not even the owner
    assert requests.get(f"{api}/v1/donations/{donation_id}", headers=donor).status_code == 200
    assert requests.get(f"{api}/v1/donations/{donation_id}", headers=bearer(api, "root", "admin")).status_code == 200
    assert donation_id not in [d["id"] for d in requests.get(f"{api}/v1/me/donations", headers=stranger).json()["items"]]

    # the owner is told of the approval; nobody else can touch that notification
    inbox = wait_for(lambda: requests.get(f"{api}/v1/me/notifications", headers=owner).json()["items"],
                     timeout=15, message="the owner's notification")
    notification_id = inbox[0]["id"]
    assert_not_found(requests.post(f"{api}/v1/me/notifications/{notification_id}/read", headers=stranger))
    assert requests.get(f"{api}/v1/me/notifications", headers=stranger).json()["items"] == []
    assert requests.post(f"{api}/v1/me/notifications/{notification_id}/read", headers=owner).json()["read"] is True

    # ids that do not exist, or are not even ids, are the same 404
    for path in ("/v1/campaigns/{}", "/v1/campaigns/{}/moderation", "/v1/donations/{}"):
        for missing in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
            assert_not_found(requests.get(f"{api}{path.format(missing)}", headers=stranger))
    assert_not_found(requests.post(f"{api}/v1/me/notifications/not-a-uuid/read", headers=stranger))


def test_talent_objects_of_others_are_404(api, bearer):
    talent, stranger, mentor = bearer(api, "aliya"), bearer(api, "someone"), bearer(api, "mentor-1", "mentor")
    profile = requests.post(f"{api}/v1/talents", headers=talent, json={
        "display_name": "Aliya", "birth_date": "2000-03-08", "region": "KZ-71", "fields": ["technology"],
        "iin": None, "user_id": "someone",
    })
    assert profile.status_code == 201, profile.text
    public = requests.get(f"{api}/v1/talents/{profile.json()['id']}", headers=stranger).json()
    assert "birth_date" not in public and "iin" not in public
    program = requests.post(f"{api}/v1/programs", headers=mentor, json={
        "kind": "master_class", "title": "Robotics with Arduino", "field": "technology", "seats": 1,
        "application_deadline": "2099-01-01T00:00:00Z", "starts_at": "2099-02-01T00:00:00Z",
    }).json()
    application = requests.post(f"{api}/v1/programs/{program['id']}/applications", headers=talent,
                                json={"motivation": "I build line-following robots.", "status": "enrolled"})
    assert application.status_code == 201 and application.json()["status"] == "submitted", application.text
    for action in ("accept", "decline"):
        assert_not_found(requests.post(f"{api}/v1/applications/{application.json()['id']}/{action}",
                                       headers=stranger))
    assert_not_found(requests.get(f"{api}/v1/talents/00000000-0000-0000-0000-000000000000", headers=stranger))
    # every 201 says where the new thing can be read, even when its route did not
    assert profile.headers["Location"] == f"/v1/talents/{profile.json()['id']}"
    assert requests.get(f"{api}{profile.headers['Location']}", headers=talent).status_code == 200


@pytest.mark.parametrize("method, path, allowed_role", [
    ("POST", "/v1/campaigns/{id}/approve", "moderator"),
    ("POST", "/v1/campaigns/{id}/reject", "moderator"),
    ("POST", "/v1/campaigns/{id}/close", "admin"),
    ("POST", "/v1/donations/{id}/refund", "admin"),
    ("POST", "/v1/campaigns/{id}/payouts", "admin"),
    ("GET", "/v1/admin/ledger/check", "admin"),
    ("POST", "/v1/programs", "mentor"),
    ("GET", "/v1/programs/{id}/applications", "mentor"),
    ("POST", "/v1/programs/{id}/select", "mentor"),
    ("POST", "/v1/applications/{id}/scores", "mentor"),
    ("POST", "/v1/webhooks", "subscriber"),
    ("GET", "/v1/webhooks", "subscriber"),
])
def test_routes_above_the_callers_role_are_403(start_platform, bearer, method, path, allowed_role):
    api = start_platform(services=())  # refused before any service is asked
    url = f"{api}{path.format(id='00000000-0000-0000-0000-000000000000')}"
    others = {"moderator": ("mentor", "subscriber"), "admin": ("moderator", "mentor", "subscriber"),
              "mentor": ("moderator", "subscriber"), "subscriber": ("moderator", "mentor")}[allowed_role]
    for roles in [(), *[(role,) for role in others]]:
        answer = requests.request(method, url, headers={**bearer(api, "user-x", *roles), "Idempotency-Key": "k"},
                                  json={})
        assert answer.status_code == 403, (roles, answer.text)
        assert answer.json()["code"] == "forbidden"
    assert requests.request(method, url, json={}).status_code == 401


def test_fields_a_client_may_not_set_never_take_effect(api, bearer, campaign_body):
    owner, moderator, donor = bearer(api, "owner-2"), bearer(api, "mod-2", "moderator"), bearer(api, "donor-2")
    smuggled = {"owner_id": "someone-else", "status": "live", "raised_amount": 10**9, "matched_amount": 5,
                "backers_count": 99, "id": "00000000-0000-0000-0000-000000000001",
                "starts_at": "2000-01-01T00:00:00Z", "created_at": "2000-01-01T00:00:00Z"}
    created = requests.post(f"{api}/v1/campaigns", headers=owner, json={**campaign_body, **smuggled})
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert campaign["owner_id"] == "owner-2" and campaign["status"] == "draft"
    assert campaign["raised_amount"] == 0 and campaign["backers_count"] == 0 and campaign["matched_amount"] == 0
    assert campaign["id"] != smuggled["id"] and campaign["starts_at"] is None

    patched = requests.patch(f"{api}/v1/campaigns/{campaign['id']}", headers=owner,
                             json={"summary": "A new summary.", **smuggled})
    assert patched.status_code == 200, patched.text
    after = requests.get(f"{api}/v1/campaigns/{campaign['id']}", headers=owner).json()
    assert after["summary"] == "A new summary."
    assert (after["owner_id"], after["status"], after["raised_amount"]) == ("owner-2", "draft", 0)

    campaign_id = live_campaign(api, owner, moderator, campaign_body)
    gift = donate(api, donor, campaign_id, "smuggle-1", donor_id="owner-2", status="refunded",
                  campaign_id="00000000-0000-0000-0000-000000000001", currency_amount=1, captured_amount=10**9)
    assert gift.status_code == 201, gift.text
    assert gift.json()["donor_id"] == "donor-2" and gift.json()["status"] == "succeeded"
    assert gift.json()["campaign_id"] == campaign_id and gift.json()["amount"] == 10_000
    wait_for(lambda: requests.get(f"{api}/v1/campaigns/{campaign_id}").json()["raised_amount"] == 10_000,
             message="the campaign's total to include the gift")
    time.sleep(0.5)
    assert requests.get(f"{api}/v1/campaigns/{campaign_id}").json()["raised_amount"] == 10_000


def test_bodies_over_one_mebibyte_are_413_declared_or_chunked(start_platform, bearer):
    api = start_platform(services=())
    user = bearer(api, "big")
    declared = requests.post(f"{api}/v1/campaigns", headers=user, data=b"{" + b" " * (1024 * 1024))
    assert declared.status_code == 413 and declared.json()["code"] == "payload_too_large"

    def chunks():
        for _ in range(40):
            yield b"x" * 32768  # 1.25 MiB in all, and no Content-Length

    chunked = requests.post(f"{api}/v1/campaigns", headers=user, data=chunks())
    assert chunked.request.headers.get("Transfer-Encoding") == "chunked"
    assert chunked.status_code == 413 and chunked.json()["code"] == "payload_too_large"
    assert chunked.headers["Content-Type"].startswith("application/problem+json")

    small_chunked = requests.post(f"{api}/v1/auth/dev-token", data=iter([b'{"user_id":', b' "chunky"}']))
    assert small_chunked.status_code == 200, small_chunked.text


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", "1e2", "99999999999"])
def test_a_limit_outside_1_to_100_is_422(start_platform, limit):
    api = start_platform(services=())
    answer = requests.get(f"{api}/v1/campaigns", params={"limit": limit})
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "validation_failed" and "limit" in answer.json()["errors"]


def test_limits_1_and_100_are_fine(api):
    for limit in ("1", "100"):
        assert requests.get(f"{api}/v1/campaigns", params={"limit": limit}).status_code == 200


def test_rate_limits_per_user_per_ip_and_for_dev_tokens(start_platform, bearer):
    api = start_platform(services=("campaigns",), RATE_LIMIT_USER_PER_MINUTE=3, RATE_LIMIT_IP_PER_MINUTE=12,
                         RATE_LIMIT_DEV_TOKENS_PER_MINUTE=2, RATE_LIMIT_USER_MONEY_PER_MINUTE=1)
    alice, bob = bearer(api, "alice"), bearer(api, "bob")  # ip: 2, dev tokens: 2
    third_token = requests.post(f"{api}/v1/auth/dev-token", json={"user_id": "carol"})  # ip: 3
    assert third_token.status_code == 429 and third_token.json()["code"] == "rate_limited"
    assert int(third_token.headers["Retry-After"]) >= 1

    for _ in range(3):  # ip: 6
        assert requests.get(f"{api}/v1/campaigns", headers=alice).status_code == 200
    limited = requests.get(f"{api}/v1/campaigns", headers=alice)  # ip: 7
    assert limited.status_code == 429
    assert limited.headers["Content-Type"].startswith("application/problem+json")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert requests.get(f"{api}/v1/campaigns", headers=bob).status_code == 200  # ip: 8; bob has his own

    statuses = [requests.get(f"{api}/v1/no-such-route").status_code for _ in range(5)]  # ip: 9..13
    assert statuses == [404, 404, 404, 404, 429]
    flooded = requests.get(f"{api}/v1/campaigns", headers=bob)
    assert flooded.status_code == 429 and flooded.headers["Retry-After"]


def test_reads_carry_an_etag_and_answer_304_when_unchanged(api, bearer, campaign_body):
    owner = bearer(api, "owner-3")
    campaign = requests.post(f"{api}/v1/campaigns", headers=owner, json=campaign_body).json()
    url = f"{api}/v1/campaigns/{campaign['id']}"
    first = requests.get(url, headers=owner)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag.startswith('"')
    assert "Authorization" in first.headers["Vary"] and "no-store" not in first.headers["Cache-Control"]
    again = requests.get(url, headers={**owner, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    assert requests.get(url, headers={**owner, "If-None-Match": f'W/{etag}, "other"'}).status_code == 304
    assert requests.get(url, headers={**owner, "If-None-Match": '"stale"'}).status_code == 200

    requests.patch(url, headers=owner, json={"summary": "Now to seven villages."}).raise_for_status()
    changed = requests.get(url, headers={**owner, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.json()["summary"] == "Now to seven villages."
    # writes and errors carry none
    assert "ETag" not in requests.get(f"{api}/v1/campaigns/nope").headers


def test_request_ids_security_headers_and_cors(start_platform):
    api = start_platform(services=(), CORS_ORIGINS="https://demeu.kz, https://admin.demeu.kz")
    given = requests.get(f"{api}/v1/regions", headers={"X-Request-ID": "req-abc.123"})
    assert given.headers["X-Request-ID"] == "req-abc.123"
    made = requests.get(f"{api}/v1/regions", headers={"X-Request-ID": "bad id\twith spaces"})
    assert made.headers["X-Request-ID"] != "bad id\twith spaces" and len(made.headers["X-Request-ID"]) == 32
    for answer in (given, requests.get(f"{api}/v1/nowhere"), requests.post(f"{api}/v1/regions")):
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
        assert answer.headers["X-Request-ID"]

    allowed = requests.get(f"{api}/v1/regions", headers={"Origin": "https://admin.demeu.kz"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://admin.demeu.kz"
    assert "X-Request-ID" in allowed.headers["Access-Control-Expose-Headers"]
    foreign = requests.get(f"{api}/v1/regions", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in foreign.headers
    preflight = requests.options(f"{api}/v1/campaigns", headers={
        "Origin": "https://demeu.kz", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key"})
    assert preflight.status_code == 204
    assert "Idempotency-Key" in preflight.headers["Access-Control-Allow-Headers"]
    assert requests.options(f"{api}/v1/campaigns", headers={"Origin": "https://evil.example"}).headers.get(
        "Access-Control-Allow-Origin") is None


def test_tokens_that_must_not_pass_are_401_over_http(start_platform, bearer):
    import jwt

    from .conftest import TEST_SECRET

    api = start_platform(services=())
    now = int(time.time())
    good = {"sub": "u", "iss": "demeu-dev", "aud": "demeu", "exp": now + 600, "roles": ["admin"]}
    cases = {
        "expired": jwt.encode({**good, "exp": now - 3600}, TEST_SECRET, algorithm="HS256"),
        "audience": jwt.encode({**good, "aud": "other"}, TEST_SECRET, algorithm="HS256"),
        "issuer": jwt.encode({**good, "iss": "other"}, TEST_SECRET, algorithm="HS256"),
        "key": jwt.encode(good, "a-different-secret-of-sufficient-length!", algorithm="HS256"),
        "none": jwt.encode(good, None, algorithm="none"),
    }
    for name, token in cases.items():
        answer = requests.get(f"{api}/v1/admin/ledger/check", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, name
        assert answer.json()["code"] == "unauthorized" and answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_text_no_database_can_store_is_refused_at_the_door(start_platform, bearer):
    """Found by schemathesis: a NUL in a title reached PostgreSQL and crashed the service."""
    api = start_platform(services=())
    user = {**bearer(api, "nul"), "Content-Type": "application/json"}
    nul = requests.post(f"{api}/v1/campaigns", headers=user, data='{"title": "a\\u0000b", "rewards": [{"title": "x"}]}')
    assert nul.status_code == 422 and nul.json()["errors"] == {
        "title": ["Must be text without NUL characters or unpaired surrogates."]}
    surrogate = requests.post(f"{api}/v1/campaigns", headers=user, data='{"rewards": [{"title": "\\ud800"}]}')
    assert surrogate.status_code == 422 and list(surrogate.json()["errors"]) == ["rewards.0.title"]
    assert requests.get(f"{api}/v1/campaigns", params={"q": "a\x00b"}).status_code == 422
    assert requests.get(f"{api}/v1/campaigns/%00").status_code == 404
    deep = requests.post(f"{api}/v1/campaigns", headers=user, data="[" * 200_000 + "]" * 200_000)
    assert deep.status_code == 400 and deep.json()["code"] == "malformed_json"


def test_query_filters_outside_their_values_are_422_and_empty_means_absent(start_platform):
    api = start_platform(services=("campaigns",))
    for params in ({"category": "sport"}, {"region": "KZ-00"}, {"owner": "someone"}, {"q": "x" * 201},
                   {"cursor": "c" * 513}):
        answer = requests.get(f"{api}/v1/campaigns", params=params)
        assert answer.status_code == 422, params
        assert set(answer.json()["errors"]) == set(params)
    assert requests.get(f"{api}/v1/campaigns", params={"category": "", "region": "", "owner": ""}).status_code == 200
    assert requests.get(f"{api}/v1/campaigns", params={"category": "science", "region": "KZ-71"}).status_code == 200
