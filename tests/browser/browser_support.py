"""Helpers for the browser tests: launching Debian's Chromium, axe-core, the layout checks, and
the customer's and staff's paths as a person clicks them."""

from __future__ import annotations

import contextlib
import os
import uuid
from importlib import resources

from playwright.sync_api import Page, sync_playwright

from stack.local.haproxy import COOKIE

STAFF_PASSWORD = "browser-staff-password"
# How often an open status page polls in these tests (the shop's default is 15 s).
POLL_SECONDS = 1
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Debian's Chromium, headless, with everything that would reach out to the internet switched off.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
# WCAG 2.5.5 (AAA) / Apple and Google guidance: a finger needs a target about 44 px tall.
MIN_TARGET_PX = 44


@contextlib.contextmanager
def chromium():
    """Playwright's own browser download cannot work here: drive the system Chromium by path."""
    if not os.path.exists(CHROMIUM):
        raise RuntimeError(f"{CHROMIUM} is missing: `apt-get install chromium` (.ci/run installs it)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def force_variant(context, stack, variant: str) -> str:
    """Send this browser to `variant` through HAProxy: its sticky cookie, as a returning visitor has."""
    context.add_cookies([{"name": COOKIE, "value": variant, "url": stack.url()}])
    return stack.url().rstrip("/")


def served_by(page: Page) -> str:
    return page.locator("body").get_attribute("data-variant")


# --- axe-core ---------------------------------------------------------------------------------
def axe_source() -> str:
    """axe-core (MPL-2.0) as bundled by the pinned PyPI package axe-playwright-python."""
    return resources.files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


_AXE = None


def axe_violations(page: Page, impacts=("serious", "critical")) -> list[dict]:
    """Run axe in the page; the violations of the given impacts, as {id, impact, help, targets}.
    Evaluated through the DevTools protocol, so the page's CSP (no inline script) still applies to the page."""
    global _AXE
    if _AXE is None:
        _AXE = axe_source()
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_AXE + "\n;undefined")
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "targets": [" ".join(map(str, n["target"])) for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in impacts
    ]


# --- layout -------------------------------------------------------------------------------------
LAYOUT_JS = """
(minTarget) => {
  const doc = document.documentElement;
  const viewport = doc.clientWidth;
  const out = {viewport, width: doc.scrollWidth, offscreen: [], small: [], inline: [], wrapped: [], crowded: []};
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
    ' "' + (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 30) + '"';
  const scroller = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll') return p;
    }
    return null;
  };
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])';
  for (const el of document.querySelectorAll(selector)) {
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    // A radio button or checkbox is hit through its label.
    const target = el.matches('input[type=radio], input[type=checkbox]') ? (el.closest('label') || el) : el;
    const box = target.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    // Reachable: inside the page's width, or inside a box that scrolls sideways and is itself inside it.
    const holder = scroller(el);
    const frame = holder ? holder.getBoundingClientRect() : {left: 0, right: viewport};
    const left = holder ? frame.left : box.left, right = holder ? frame.right : box.right;
    if (left < -0.5 || right > viewport + 0.5) out.offscreen.push(name(el) + ' ' + Math.round(box.left) + '..' + Math.round(box.right));
    if (minTarget && !el.matches('[tabindex]:not(a, button, input, select, textarea)') && box.height < minTarget - 0.5)
      out.small.push(name(el) + ' ' + box.height.toFixed(1) + 'px');
  }
  // On a desktop the staff order table fits its column; only a phone (or the experiment's wide
  // figures) may scroll a table inside its own box.
  if (!minTarget) for (const box of document.querySelectorAll('.table-scroll:has(.order-cards)'))
    if (box.scrollWidth > box.clientWidth + 1) out.wrapped.push(name(box) + ' table is ' + box.scrollWidth + ' px wide in ' + box.clientWidth + ' px');
  // A button's label stays on one line (a wrapped "GET MY / PIZZA NOW" reads as two buttons).
  for (const el of document.querySelectorAll('.button')) {
    if (!el.getClientRects().length) continue;
    const lines = new Set();
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let t = walker.nextNode(); t; t = walker.nextNode()) {
      if (t.parentElement.closest('.visually-hidden') || !t.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(t);
      for (const r of range.getClientRects()) if (r.width > 1) lines.add(Math.round(r.bottom));
    }
    if (lines.size > 1) out.wrapped.push(name(el) + ' on ' + lines.size + ' lines');
  }
  // A pizza's name and its description never touch: the description is below, or 8 px or more beside it.
  for (const item of document.querySelectorAll('.menu-item')) {
    const n = item.querySelector('.menu-name'), d = item.querySelector('.menu-desc');
    if (!n || !d) continue;
    const text = (el) => { const r = document.createRange(); r.selectNodeContents(el); return r.getBoundingClientRect(); };
    const a = text(n), b = text(d);
    const below = b.top >= a.bottom - 1, beside = b.left - a.right >= 8;
    if (!below && !beside) out.crowded.push(name(n) + ' touches its description (gap ' + Math.round(b.left - a.right) + ' px)');
  }
  // The CSP allows no inline script or style: none may be in the page.
  for (const s of document.querySelectorAll('script:not([src])')) out.inline.push('inline <script>');
  for (const s of document.querySelectorAll('style')) out.inline.push('<style> element');
  for (const el of document.querySelectorAll('[style]')) out.inline.push(name(el) + ' style=""');
  for (const el of document.querySelectorAll('*')) for (const a of el.getAttributeNames())
    if (a.startsWith('on')) out.inline.push(name(el) + ' ' + a + '=');
  return out;
}
"""


def layout(page: Page, phone: bool) -> dict:
    """The page's width against the viewport, interactive elements out of reach or too small
    (phone only), and any inline script or style."""
    return page.evaluate(LAYOUT_JS, MIN_TARGET_PX if phone else 0)


# --- people -------------------------------------------------------------------------------------
def fill_order(page: Page, name: str, comments: str = "") -> None:
    """On the order form: the first pizza, a medium, two of them, and the customer's details."""
    page.locator("input[name=pizza]").first.check()
    page.locator("input[name=size][value=medium]").check()
    page.fill("input[name=quantity]", "2")
    page.fill("input[name=customer_name]", name)
    page.fill("input[name=phone]", "+45 20 30 40 50")
    page.fill("textarea[name=address]", "Nørregade 7, 1165 København K")
    page.fill("textarea[name=comments]", comments)


def unique_name(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def log_in(page: Page, base: str, password: str = STAFF_PASSWORD) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "staff")
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/staff/orders/**")


# --- every page -----------------------------------------------------------------------------------
def customer_pages(order):
    reference, token = order
    return [
        ("menu", "/", None),
        ("order form", "/order/", None),
        ("order form with errors", "/order/", "submit"),
        ("confirmation", f"/orders/{token}/confirmed/", None),
        ("status", f"/orders/{token}/", None),
        ("not found", "/no-such-page/", None),
        ("staff sign-in", "/accounts/login/", None),
        ("staff sign-in failed", "/accounts/login/", "bad-login"),
    ]


def staff_pages(order):
    reference, _ = order
    return [
        ("staff orders", "/staff/orders/", None),
        ("staff orders filtered", f"/staff/orders/?q={reference}", None),
        ("cancel confirmation", f"/staff/orders/{reference}/cancel/", None),
        ("experiment", "/staff/experiment/", None),
        ("signed out", "/staff/orders/", "logout"),
    ]


def act(page, action):
    if action == "submit":  # an empty order form comes back with a message by each field
        page.locator("form.order-form button[type=submit]").click()
        page.wait_for_selector(".field-error")
    elif action == "bad-login":
        page.fill("input[name=username]", "staff")
        page.fill("input[name=password]", "not-the-password")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector(".error")
    elif action == "logout":
        page.get_by_role("button", name="Log out").click()
        page.wait_for_load_state()


def check_every_page(context, base: str, variant: str, phone: bool, order) -> tuple[list[str], dict]:
    """Visit each customer page, sign in, visit each staff page; return the problems found and,
    per page, its width and axe findings."""
    page = context.new_page()
    problems, measured = [], {}
    for label, path, action in customer_pages(order) + [("sign in", None, "login")] + staff_pages(order):
        if action == "login":
            log_in(page, base)
            continue
        page.goto(base + path)
        act(page, action)
        if served_by(page) != variant:
            problems.append(f"{label}: served by {served_by(page)}, not {variant}")
        problems.extend(f"{label}: {p}" for p in check_page(page, phone, measured.setdefault(label, {})))
    page.close()
    return problems, measured


def check_page(page: Page, phone: bool, measured: dict | None = None) -> list[str]:
    """The layout checks and axe on the page as it is now; fills `measured` with width and axe ids."""
    found = layout(page, phone=phone)
    violations = axe_violations(page)
    if measured is not None:
        measured.update(width=found["width"], viewport=found["viewport"], axe=[v["id"] for v in violations])
    problems = []
    if found["width"] > found["viewport"]:
        problems.append(f"page is {found['width']} px wide in a {found['viewport']} px viewport")
    problems.extend(f"out of reach: {x}" for x in found["offscreen"])
    problems.extend(f"under {MIN_TARGET_PX} px: {x}" for x in found["small"])
    problems.extend(found["inline"] + found["wrapped"] + found["crowded"])
    problems.extend(f"axe {v['impact']} {v['id']} ({v['help']}) at {v['targets']}" for v in violations)
    return problems
