"""The drill's figures: RPO and RTO per data size, and the checks behind them."""

from __future__ import annotations

from .run import Drill


def mb(n: int | None) -> str:
    return f"{n / 2**20:.0f}" if n is not None else "-"


def rows(drills: list[Drill]) -> list[dict]:
    out = []
    for drill in drills:
        f = drill.figures
        gap = f.get("last_commit_gap_s")
        out.append(
            {
                "bulk orders": f"{drill.options.size:,}",
                "live acked before T": f.get("acked_before_t", "-"),
                "base backup MB": mb(f.get("backup_bytes")),
                "WAL archived MB": mb(f.get("archive_bytes")),
                "restore to T s": f"{f['restore_s']:.1f}" if "restore_s" in f else "-",
                "RTO s": f"{f['rto_s']:.1f}" if "rto_s" in f else "-",
                "RPO orders lost": f.get("lost_before_t", "-"),
                "RPO last commit before T ms": f"{gap * 1000:.0f}" if gap is not None else "-",
                "result": "PASS" if drill.result.passed else "FAIL",
            }
        )
    return out


def table(drills: list[Drill]) -> str:
    data = rows(drills)
    if not data:
        return ""
    heads = list(data[0])
    widths = [max(len(h), *(len(str(r[h])) for r in data)) for h in heads]

    def line(values):
        return "  ".join(str(v).rjust(w) for v, w in zip(values, widths, strict=False))

    return "\n".join([line(heads), *(line(r.values()) for r in data)])


def details(drill: Drill) -> str:
    lines = [f"drill with {drill.options.size:,} bulk orders:"]
    f = drill.figures
    if "in_flight_at_t" in f:
        lines.append(
            f"  {f['in_flight_at_t']} order(s) in flight at T (sent before, acknowledged after): "
            f"{f['in_flight_kept']} restored (committed before T), the rest not (committed after)"
        )
    lines += [f"  {'ok  ' if ok else 'FAIL'} {description}" for description, ok in drill.result.checks]
    lines += [f"  note: {note}" for note in drill.result.notes]
    if drill.result.stats.unresolved:
        lines.append(f"  note: client requests never answered: {dict(drill.result.stats.unresolved)}")
    if drill.result.error:
        lines.append(f"  ERROR: {drill.result.error}")
    return "\n".join(lines)
