"""The report: one row per measurement beside its reference and target, as text and markdown."""

from __future__ import annotations

from .load import round_ratios

# Targets: (comparison, bound). Ratios, so they hold however fast this machine is today.
TARGET_DIRECT = 0.20  # order flow req/s direct to a variant / bare WSGI req/s
TARGET_FLOOR = 1.00  # order POST req/s direct to a variant / the minimal Django order view's POST req/s
TARGET_LB = 0.85  # order flow req/s through HAProxy / direct
TARGET_STAFF = 1.25  # staff first-page p99 at the largest size / at 1,000
TARGET_STAFF_P99_MS = 10.0  # staff first and deep page p99 at the largest size
TARGET_EXPERIMENT = 1.25  # Experiment page p99 at the large number of exposures / at the small
TARGET_RSS_MB = 100.0  # each gunicorn worker after the largest staff run


def fmt_load(d: dict, flows: bool = True) -> str:
    text = f"{d['rps']:.0f} req/s"
    if flows and "flows_per_s" in d:
        text += f" ({d['flows_per_s']:.0f} orders/s)"
    return text + f", p50 {d['latency_us']['p50'] / 1000:.1f} / p99 {d['latency_us']['p99'] / 1000:.1f} ms"


def build_rows(r: dict) -> list[dict]:
    rows: list[dict] = []
    for section in (order_rows, toggle_rows, staff_rows, experiment_rows, memory_rows):
        section(r, Rows(rows))
    return rows


class Rows:
    """Appends report rows to a list: one dict per measurement."""

    def __init__(self, rows: list[dict]) -> None:
        self.rows = rows

    def add(self, name, number, figure, reference="", ratio=None, target="", ok=None, kind="%") -> None:
        """number: the figure as one float (req/s, p99 ms or MB); ratio: figure / reference."""
        shown = "" if ratio is None else f"{ratio * 100:.0f}%" if kind == "%" else f"{ratio:.2f}x"
        self.rows.append(
            {
                "measurement": name,
                "figure": figure,
                "reference": reference,
                "ratio": shown,
                "target": target,
                "result": "" if ok is None else ("PASS" if ok else "MISS"),
                "number": round(float(number), 2),
                "value": ratio,
            }
        )

    def against(self, name: str, d: dict, ref: dict, ref_name: str, bound: float | None = None, flows: bool = True) -> None:
        """A load row beside a reference load measured in the same rounds; bound: the target ratio, if any."""
        ratio = d["rps"] / ref["rps"]
        reference = f"{ref_name} {ref['rps']:.0f} req/s" + round_ratios(d["rounds"], ref["rounds"])
        if bound is None:
            self.add(name, d["rps"], fmt_load(d, flows), reference, ratio)
        else:
            self.add(name, d["rps"], fmt_load(d, flows), reference, ratio, f">= {bound:.0%}", ratio >= bound)


def order_rows(r: dict, rows: Rows) -> None:
    """The references (bare WSGI, the floor app), order POSTs and the order flow direct and through HAProxy."""
    c, d, lb, lba = r["ceiling"], r["direct"], r["lb"], r["lb_a_only"]
    floor, post = r["floor_post"], r["post"]
    n = len(c["rounds"])
    reference = f"(the reference; {n} round{'s' * (n > 1)})"
    rows.add("ceiling: bare WSGI, plain GET", c["rps"], fmt_load(c, False), reference)
    rows.add("floor: minimal Django order view, POST", floor["rps"], fmt_load(floor, False), reference)
    rows.against("order POST, direct to variant A", post, floor, "floor", TARGET_FLOOR, flows=False)
    rows.against("order flow, direct to variant A", d, c, "ceiling", TARGET_DIRECT)
    rows.against("order flow, HAProxy -> A/B/C split", lb, d, "direct", TARGET_LB)
    rows.against("order flow, HAProxy -> A only", lba, d, "direct")


def toggle_rows(r: dict, rows: Rows) -> None:
    """Variant A with the request log and the exposure recording switched on and off."""
    toggles = r["toggles"]
    for name, label in (
        ("on", "log + exposures ON (default)"),
        ("log_only", "request log only"),
        ("exposures_only", "exposure recording only"),
    ):
        if name in toggles:
            rows.against(f"order flow, A, {label}", toggles[name], toggles["off"], "both off")


def staff_rows(r: dict, rows: Rows) -> None:
    """The staff table's pages at each size, p99 against the smallest size."""
    staff = r["staff"]
    sizes = sorted(staff, key=int)
    base = staff[sizes[0]]
    largest = sizes[-1]
    for page, label in (
        ("first", "first page"),
        ("deep", "deep page (keyset, half-way)"),
        ("status", "status=baking"),
        ("search", "search by phone"),
    ):
        for size in sizes:
            s = staff[size][page]
            ratio = s["p99_ms"] / base[page]["p99_ms"]
            target, ok = "", None
            if page in ("first", "deep") and size == largest and size != sizes[0]:
                target = f"p99 <= {TARGET_STAFF_P99_MS:g} ms, <= {TARGET_STAFF:.2f}x" + ("" if int(size) >= 1_000_000 else " (at 1M)")
                ok = ratio <= TARGET_STAFF and s["p99_ms"] <= TARGET_STAFF_P99_MS
            rows.add(
                f"staff {label} @ {int(size):,}",
                s["p99_ms"],
                f"p50 {s['p50_ms']:.1f} / p99 {s['p99_ms']:.1f} ms, {s['rows']} rows, {s['bytes'] / 1024:.0f} KiB",
                f"p99 @ {int(sizes[0]):,}: {base[page]['p99_ms']:.1f} ms",
                ratio,
                target,
                ok,
                kind="x",
            )


def experiment_rows(r: dict, rows: Rows) -> None:
    """The Experiment page and its CSV at the small and the large number of exposures."""
    e = r["experiment"]
    for kind, label in (("page", "Experiment page"), ("csv", "Experiment CSV")):
        small, large = e[kind]["small"], e[kind]["large"]
        for size, s in ((e["small"], small), (e["large"], large)):
            ratio = s["p99_ms"] / small["p99_ms"]
            is_large = s is large
            rows.add(
                f"{label} @ {size:,} exposures",
                s["p99_ms"],
                f"p50 {s['p50_ms']:.1f} / p99 {s['p99_ms']:.1f} ms ({s['n']} requests, {size // e['orders_every']:,} orders)",
                f"p99 @ {e['small']:,}: {small['p99_ms']:.1f} ms",
                ratio,
                f"<= {TARGET_EXPERIMENT:.2f}x" + ("" if e["large"] >= 1_000_000 else " (at 1M)") if is_large else "",
                ratio <= TARGET_EXPERIMENT if is_large else None,
                kind="x",
            )


def memory_rows(r: dict, rows: Rows) -> None:
    """Resident memory of variant A's workers after the largest staff run."""
    largest = sorted(r["staff"], key=int)[-1]
    mem = r["memory"]
    rss = [m.get("VmRSS", 0.0) for m in mem["variant_a_workers"]]
    pss = [m.get("Pss", 0.0) for m in mem["variant_a_workers"]]
    rows.add(
        f"worker RSS after {int(largest):,}-order run (A)",
        max(rss) if rss else float("nan"),
        ", ".join(f"{x:.0f}" for x in rss) + " MB (PSS " + ", ".join(f"{x:.0f}" for x in pss) + ")",
        f"master {mem['variant_a_master'].get('VmRSS', 0):.0f} MB",
        max(rss) / TARGET_RSS_MB if rss else None,
        f"< {TARGET_RSS_MB:.0f} MB",
        bool(rss) and max(rss) < TARGET_RSS_MB,
    )


def render_text(rows: list[dict]) -> str:
    cols = ["measurement", "figure", "reference", "ratio", "target", "result"]
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    line = "  ".join(c.ljust(widths[c]) for c in cols)
    out = [line, "  ".join("-" * widths[c] for c in cols)]
    for r in rows:
        out.append("  ".join(str(r[c]).ljust(widths[c]) for c in cols).rstrip())
    return "\n".join(out)


def render_markdown(rows: list[dict]) -> str:
    cols = ["measurement", "figure", "reference", "ratio", "target", "result"]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        out.append("| " + " | ".join(str(r[c]).replace("|", "\\|") for c in cols) + " |")
    return "\n".join(out)
