"""The floor `make bench` compares against: a bare Nameko @http entrypoint making one RPC to
a service that does nothing. No auth, no database, no validation: what the stack itself costs.
Run as ``nameko run --config <cfg> deploy.bench_floor:FloorGateway deploy.bench_floor:Echo``."""
import json

from nameko.rpc import RpcProxy, rpc
from nameko.web.handlers import http


class Echo:
    name = "bench_echo"

    @rpc
    def echo(self, value):
        return value


class FloorGateway:
    name = "bench_floor"
    echo = RpcProxy("bench_echo")

    @http("GET", "/floor")
    def floor(self, request):
        return 200, json.dumps({"echo": self.echo.echo("ok")})
