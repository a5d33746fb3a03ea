"""X-Request-ID in and out, and in the log lines of every service the request reaches."""
import logging

import pytest
import requests
from nameko.rpc import RpcProxy, rpc
from nameko.standalone.rpc import ClusterRpcProxy

from demeu_common.logs import RequestContext, RequestIdFilter, current_request_id

pytestmark = pytest.mark.integration


class EchoService:
    name = "echo"
    request_context = RequestContext()

    @rpc
    def shout(self, text):
        logging.getLogger("echo").info("echoing %s", text)
        return {"text": text.upper(), "request_id": self.request_context}


class RelayService:
    name = "relay"
    request_context = RequestContext()
    echo = RpcProxy("echo")

    @rpc
    def relay(self, text):
        logging.getLogger("relay").info("relaying %s", text)
        return self.echo.shout(text)


def test_the_request_id_reaches_the_log_lines_of_every_service_on_the_way(container_factory, amqp_uri, caplog):
    for service in (EchoService, RelayService):
        container_factory(service, {"AMQP_URI": amqp_uri}).start()
    caplog.set_level(logging.INFO)
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, context_data={"request_id": "req-42"}) as proxy:
        assert proxy.relay.relay("salem") == {"text": "SALEM", "request_id": "req-42"}
    lines = {r.name: r for r in caplog.records if r.name in ("echo", "relay")}
    assert lines["relay"].request_id == "req-42" and lines["echo"].request_id == "req-42"
    assert current_request_id() == "-"  # nothing leaks into the caller's greenthread


def test_records_outside_a_request_say_dash_and_format_anywhere():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", (), None)
    assert RequestIdFilter().filter(record) and record.request_id == "-"
    formatted = logging.Formatter("[%(request_id)s] %(message)s").format(
        logging.getLogger("y").makeRecord("y", logging.INFO, __file__, 1, "hi", (), None))
    assert formatted == "[-] hi"


def test_the_gateway_passes_its_request_id_to_the_services(start_platform, bearer, caplog):
    api = start_platform(services=("campaigns",))
    caplog.set_level(logging.INFO)
    answer = requests.get(f"{api}/v1/campaigns/00000000-0000-0000-0000-000000000000",
                          headers={"X-Request-ID": "trace-me-7"})
    assert answer.status_code == 404 and answer.headers["X-Request-ID"] == "trace-me-7"
    # the gateway's own lines (the worker's warning and the access log) carry it
    gateway_lines = [r for r in caplog.records if "gateway.get_campaign" in r.getMessage()
                     or "GET /v1/campaigns/0000" in r.getMessage()]
    assert len(gateway_lines) == 2 and all(r.request_id == "trace-me-7" for r in gateway_lines)
    # and so do the campaigns service's, in its own container and greenthread
    service_lines = [r for r in caplog.records if "campaigns.get_campaign" in r.getMessage()]
    assert service_lines and all(r.request_id == "trace-me-7" for r in service_lines)
