"""`python -m stack.rollout_gate --url URL --release NAME --deadline S`: wait for a release's
/readyz; exit 1 naming the release if it is not ready by the deadline.

The deploy workflow gets the same gate from `helm upgrade --wait --rollback-on-failure` (pods must
pass their readiness probe, which is /readyz, within --timeout); this command is the local
equivalent and the workflow's smoke step uses it against each release through the load balancer.
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--release", required=True)
    parser.add_argument("--deadline", type=float, default=300)
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.deadline
    while time.monotonic() < deadline:
        if ready(args.url):
            print(f"release {args.release} is ready")
            return 0
        time.sleep(1)
    print(f"rollout gate: release {args.release} never became ready within {args.deadline:g}s ({args.url})", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
