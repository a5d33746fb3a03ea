"""`make bench`: load on the donation and read paths beside a bare Nameko HTTP→RPC floor, in
one run, so the platform's figures are read against what the stack itself can do here.

It starts its own platform with `make up` (own var dir, port and RabbitMQ vhost; PostgreSQL
databases when the server answers, else SQLite — set BENCH_DATABASE=sqlite to force it),
plus the floor services, drives each path with a fixed number of concurrent clients for a
fixed time, prints requests/s, latency percentiles, errors and each process's memory, and
tears everything down. Settings: BENCH_SECONDS (default 10), BENCH_CLIENTS (default 16).
"""
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
SERVICES = ("campaigns", "payments", "notifications", "talent")
SECONDS = float(os.environ.get("BENCH_SECONDS", 10))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", 16))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_load(name, make_request):
    """``CLIENTS`` threads call ``make_request(session, n)`` for ``SECONDS``; returns a row."""
    latencies, errors, lock = [], [], threading.Lock()
    deadline = time.monotonic() + SECONDS

    def client(index):
        session = requests.Session()
        n = 0
        while time.monotonic() < deadline:
            n += 1
            started = time.monotonic()
            try:
                status = make_request(session, f"{index}-{n}")
                ok = 200 <= status < 300
            except requests.RequestException:
                status, ok = "exc", False
            elapsed = time.monotonic() - started
            with lock:
                (latencies if ok else errors).append(elapsed if ok else status)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {"path": name, "ok": len(latencies), "errors": len(errors), "rps": len(latencies) / wall,
            "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
            "mean_ms": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
            "error_kinds": sorted({str(e) for e in errors})[:5]}


def rss_mb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def supervised_pids(env):
    out = subprocess.run([str(REPO / ".venv/bin/supervisorctl"), "-c", "deploy/supervisord.conf", "status"],
                         cwd=REPO, env=env, capture_output=True, text=True).stdout
    pids = {}
    for line in out.splitlines():
        parts = line.split()
        if "pid" in parts:
            pids[parts[0]] = int(parts[parts.index("pid") + 1].rstrip(","))
    return pids


def main():
    sys.path.insert(0, str(REPO / "libs/common"))
    from demeu_common.testing import DatabaseRegistry, _ensure_management_api, delete_vhost, make_vhost

    _ensure_management_api()
    vhost, amqp_uri = make_vhost("demeu-bench")
    var_dir = tempfile.mkdtemp(prefix="demeu-bench-")
    port, floor_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    env.update({"DEMEU_VAR_DIR": var_dir, "GATEWAY_PORT": str(port), "AMQP_URI": amqp_uri,
                "DEMEU_DEV": "1", "DEMEU_RATE_LIMITS_OFF": "1", "LOG_LEVEL": "WARNING",
                # what the Makefile derives, for our own supervisorctl calls
                "DEMEU_SUPERVISOR_SOCK": f"{var_dir}/supervisor.sock"})
    registry = None
    if os.environ.get("BENCH_DATABASE", "postgresql") != "sqlite":
        try:
            os.environ.setdefault("DEMEU_TEST_DATABASE", "postgresql://postgres@127.0.0.1:5432")
            registry = DatabaseRegistry()
            for service in SERVICES:
                env[f"{service.upper()}_DATABASE_URL"] = registry.url_for(service)
        except Exception as error:  # no PostgreSQL here: measure on SQLite
            print(f"PostgreSQL unavailable ({error.__class__.__name__}); using SQLite")
            registry = None
    database = "PostgreSQL" if registry else "SQLite"
    floor = None
    try:
        subprocess.run(["make", "--no-print-directory", "up"], cwd=REPO, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        floor_config = Path(var_dir) / "floor.yaml"
        floor_config.write_text(json.dumps({"AMQP_URI": amqp_uri, "WEB_SERVER_ADDRESS": f"127.0.0.1:{floor_port}",
                                            "max_workers": 50}))
        floor = subprocess.Popen(
            [str(REPO / ".venv/bin/nameko"), "run", "--config", str(floor_config),
             "deploy.bench_floor:FloorGateway", "deploy.bench_floor:Echo"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        api = f"http://127.0.0.1:{port}"
        _wait(f"http://127.0.0.1:{floor_port}/floor")

        def token(user_id, *roles):
            answer = requests.post(f"{api}/v1/auth/dev-token", json={"user_id": user_id, "roles": list(roles)})
            return {"Authorization": f"Bearer {answer.json()['access_token']}"}

        owner, moderator = token("bench-owner"), token("bench-moderator", "moderator")
        campaign = requests.post(f"{api}/v1/campaigns", headers=owner, json={
            "title": "Benchmark campaign", "summary": "Load.", "category": "science", "region": "KZ-71",
            "funding_model": "keep_it_all", "goal_amount": 10**12, "currency": "KZT", "duration_days": 365,
        }).json()
        requests.post(f"{api}/v1/campaigns/{campaign['id']}/submit", headers=owner).raise_for_status()
        requests.post(f"{api}/v1/campaigns/{campaign['id']}/approve", headers=moderator).raise_for_status()
        donors = [token(f"bench-donor-{i}") for i in range(CLIENTS)]
        run_id = uuid.uuid4().hex[:8]
        gift = {"amount": 10_000, "payment_method": {"type": "card", "token": "tok_success"}}

        def floor_request(session, n):
            return session.get(f"http://127.0.0.1:{floor_port}/floor", timeout=30).status_code

        def read_request(session, n):
            return session.get(f"{api}/v1/campaigns/{campaign['id']}", timeout=30).status_code

        def donate_request(session, n):
            donor = donors[int(n.split("-")[0]) % len(donors)]
            return session.post(f"{api}/v1/campaigns/{campaign['id']}/donations", json=gift, timeout=30,
                                headers={**donor, "Idempotency-Key": f"{run_id}-{n}"}).status_code

        rows = [run_load("floor: bare nameko HTTP→RPC", floor_request),
                run_load("read: GET /v1/campaigns/{id}", read_request),
                run_load("donate: POST …/donations", donate_request)]
        time.sleep(2)  # let the events of the last donations land
        shown = requests.get(f"{api}/v1/campaigns/{campaign['id']}").json()
        pids = supervised_pids(env)
        memory = {name: rss_mb(pid) for name, pid in sorted(pids.items())}
        memory["bench floor (2 services)"] = rss_mb(floor.pid)
    finally:
        if floor is not None:
            floor.terminate()
        subprocess.run(["make", "--no-print-directory", "down"], cwd=REPO, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        delete_vhost(vhost)
        if registry:
            registry.drop_all()
        shutil.rmtree(var_dir, ignore_errors=True)

    print(f"\nDemeu benchmark — {CLIENTS} clients × {SECONDS:g} s per path, {database}, "
          f"{os.cpu_count()} cores\n")
    print(f"{'path':34} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for row in rows:
        print(f"{row['path']:34} {row['rps']:8.1f} {row['p50_ms']:8.1f} {row['p95_ms']:8.1f} "
              f"{row['p99_ms']:8.1f} {row['errors']:7d}" + (f"  {row['error_kinds']}" if row["errors"] else ""))
    floor_rps = rows[0]["rps"] or float("nan")
    print(f"\nread path at {rows[1]['rps'] / floor_rps:.0%} of the floor; "
          f"donation path at {rows[2]['rps'] / floor_rps:.0%} (it makes 2 RPCs and 3 transactions)")
    donated = rows[2]["ok"] * gift["amount"]
    print(f"raised_amount after the run: {shown['raised_amount']} tiyn; accepted donations × amount: {donated} "
          f"({'equal' if shown['raised_amount'] == donated else 'DIFFERENT'})")
    print("\nresident memory (MB): " + ", ".join(f"{k} {v:.0f}" for k, v in memory.items()))
    return 0


def _wait(url, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


if __name__ == "__main__":
    sys.exit(main())
