"""`python -m stack.drill [--sizes 0,1000000]`: one restore drill per size, then the figures."""

from __future__ import annotations

import argparse
import sys

from .report import details, table
from .run import Options, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack.drill", description=__doc__)
    parser.add_argument("--sizes", default="0", help="bulk orders per drill, comma-separated (0 = live orders only)")
    parser.add_argument(
        "--port", type=int, default=Options.port, help="port base: the stack uses base..base+99, the clusters base+100, base+101"
    )
    parser.add_argument("--lead", type=float, default=Options.lead, help="seconds of live orders on each side of T")
    parser.add_argument("--rate", type=float, default=Options.rate, help="orders per second")
    parser.add_argument("--env", default="dev")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes takes whole numbers separated by commas, not {args.sizes!r}")
    if any(s < 0 for s in sizes) or not sizes:
        parser.error("--sizes must be one or more numbers >= 0")
    drills = [run(Options(port=args.port, size=size, lead=args.lead, rate=args.rate, env=args.env)) for size in sizes]
    for drill in drills:
        print(details(drill))
    print("\nrestore drill (RPO at the target T; RTO = restore start -> every release /readyz ready):")
    print(table(drills))
    return 0 if all(d.result.passed for d in drills) else 1


if __name__ == "__main__":
    sys.exit(main())
