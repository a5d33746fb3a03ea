"""Wait until the gateway's /health answers 200, or give up after a timeout.

Used by `make up`. Standard library only: it runs before anything else is known to work.
On timeout it prints what was wrong the last time it asked (the services /health marked
as failing, or why the gateway could not be reached) and exits 1.

    python deploy/wait_health.py --url http://127.0.0.1:8000/health --timeout 60
"""
import argparse
import json
import sys
import time
import urllib.error
import urllib.request


def check(url, timeout):
    """Return (ok, problem): ok when /health answered 200; else a line saying what failed."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200, None
    except urllib.error.HTTPError as error:
        # 503 carries {"services": {"campaigns": "ok", "payments": "unavailable", ...}}
        try:
            services = json.loads(error.read().decode("utf-8")).get("services") or {}
            failing = sorted(name for name, state in services.items() if state != "ok")
        except (ValueError, AttributeError):
            failing = []
        if failing:
            return False, "failing services: " + ", ".join(failing)
        return False, f"HTTP {error.code} from {url}"
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return False, f"gateway not reachable at {url}: {reason}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000/health")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait in all")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between tries")
    args = parser.parse_args(argv)

    deadline = time.monotonic() + args.timeout
    problem = "not checked yet"
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        ok, problem = check(args.url, timeout=max(0.5, min(5.0, remaining)))
        if ok:
            return 0
        time.sleep(min(args.interval, max(0.0, deadline - time.monotonic())))

    print(f"/health did not answer 200 within {args.timeout:g} s; {problem}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
