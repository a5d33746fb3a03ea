"""The whole platform as real processes: `make up` with this test run's own var dir, port,
RabbitMQ vhost and PostgreSQL databases, torn down with `make down`."""
import os
import socket
import subprocess
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("campaigns", "payments", "notifications", "talent")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Platform:
    def __init__(self, env):
        self.env = env
        self.url = f"http://127.0.0.1:{env['GATEWAY_PORT']}"

    def make(self, *targets, check=True, timeout=240):
        result = subprocess.run(["make", "--no-print-directory", *targets], cwd=REPO, env=self.env,
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"make {' '.join(targets)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        return result

    def token(self, user_id, *roles, **claims):
        answer = requests.post(f"{self.url}/v1/auth/dev-token",
                               json={"user_id": user_id, "roles": list(roles), **claims}, timeout=10)
        answer.raise_for_status()
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.fixture(scope="module")
def platform(tmp_path_factory, rabbit_management, database_registry):
    from demeu_common.testing import delete_vhost, empty_database, make_vhost

    vhost, amqp_uri = make_vhost("demeu-e2e")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    env.update({
        "DEMEU_VAR_DIR": str(tmp_path_factory.mktemp("platform")),
        "GATEWAY_PORT": str(_free_port()),
        "AMQP_URI": amqp_uri,
        "DEMEU_DEV": "1",
        "RPC_TIMEOUT": "4",
    })
    for service in SERVICES:
        env[f"{service.upper()}_DATABASE_URL"] = database_registry.url_for(service)
    running = Platform(env)
    try:
        running.make("up")
        yield running
    finally:
        running.make("down", check=False)
        for service in SERVICES:
            empty_database(database_registry.urls[service])
        delete_vhost(vhost)
