"""The visitor cookie and the exposure beacon.

Exposure = the first rendering of a design's landing page or order form to a human visitor.
The middleware never writes on the page view itself: it adds a small beacon to those two pages,
signed with the visitor id and the variant that rendered the page. The beacon (/seen/<token>)
records the exposure only when it comes back with the same visitor cookie, so clients that drop
cookies (scripts, most bots) never become visitors, and a prerendered page counts only once shown.

Not exposures: confirmation and status pages, other customer pages, HEAD, the API, staff pages,
staff users, prefetch/prerender requests, and user agents that are not browsers.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict

from django.conf import settings
from django.templatetags.static import static

from orders.services import VISITOR_COOKIE, VISITOR_ID

from . import assignment, tokens

log = logging.getLogger("pizza.experiment")

COOKIE_MAX_AGE = 365 * 24 * 3600
# ROUTE_COOKIE tells a load balancer that cannot hash (the ALB) which variant the visitor's hash picked.
ROUTE_COOKIE = "pz_arm"
# Only these pages expose a visitor to a design.
EXPOSURE_VIEWS = {"orders:home", "orders:order_create"}
# Pages that are not part of the customer experience get no visitor cookie (probes never get here).
UNTRACKED_PREFIXES = ("/static/", "/admin/", "/api/", "/staff/", "/accounts/", "/seen/", "/healthz", "/readyz", "/metrics", "/favicon")
# Every browser's User-Agent starts with Mozilla/; HTTP libraries (python-requests, Go-http-client,
# okhttp, curl, Scrapy...) and most unfurlers (WhatsApp, Slack-ImgProxy...) do not.
BROWSER = re.compile(r"^Mozilla/\d")
# Crawlers, unfurlers and tools that do claim Mozilla. Whole words only: "CUBOT" (a phone brand) is
# not a bot, "Googlebot" and "Slackbot-LinkExpanding" are.
BOT = re.compile(
    r"\b(?!cubot\b)\w*bot\b|\b\w*(crawler|spider)\b|\bcrawl|\bslurp\b|\bheadless\w*|\blighthouse\b|\bchrome-lighthouse\b"
    r"|\bfacebookexternalhit\b|\bfacebookcatalog\b|\bembedly\b|\biframely\b|\bpinterest\w*|\bskypeuripreview\b"
    r"|\bwhatsapp\b|\btelegram\w*|\bdiscord\w*|\bslack\w*|\bvkshare\b|\bbitlyurlexpander\b|\bqwantify\b"
    r"|\bgoogle-(?:inspectiontool|pagerenderer|read-aloud|site-verification|structured-data)\b|\bgoogleother\b"
    r"|\bpython-\w+|\bgo-http-client\b|\bokhttp\b|\bscrapy\b|\bcurl\b|\bwget\b|\bhttpclient\b|\bnode-fetch\b|\baxios\b"
    r"|\bundici\b|\bpostmanruntime\b|\bphantomjs\b|\bselenium\b|\bplaywright\b|\bpuppeteer\b|\bpingdom\w*|\buptime\w*"
    r"|\bmonitor\w*|\bprobe\b|\bhealth-?check\w*|\bpreview\b|\bfetcher\b|\bgptbot\b|\bbytespider\b|\bpetalbot\b",
    re.I,
)
# Prefetch and prerender announce themselves (Chrome: Sec-Purpose; older: Purpose, X-Purpose, X-Moz).
PREFETCH_HEADERS = ("HTTP_SEC_PURPOSE", "HTTP_PURPOSE", "HTTP_X_PURPOSE", "HTTP_X_MOZ")
SEEN_MAX = 20_000  # (visitor, variant) keys remembered per process: a few MB


class Seen:
    """A bounded, thread-safe LRU of (visitor, variant) this process has already recorded."""

    def __init__(self, maxsize: int = SEEN_MAX):
        self.maxsize = maxsize
        self._keys: OrderedDict[tuple, None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: tuple) -> bool:
        with self._lock:
            if key in self._keys:
                self._keys.move_to_end(key)
                return True
            return False

    def add(self, key: tuple) -> None:
        with self._lock:
            self._keys[key] = None
            self._keys.move_to_end(key)
            while len(self._keys) > self.maxsize:
                self._keys.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()

    def __len__(self) -> int:
        return len(self._keys)


seen = Seen()


def is_bot(request) -> bool:
    agent = request.META.get("HTTP_USER_AGENT", "").strip()
    return not BROWSER.match(agent) or bool(BOT.search(agent))


def is_prefetch(request) -> bool:
    return any(word in request.META.get(h, "").lower() for h in PREFETCH_HEADERS for word in ("prefetch", "prerender", "preview"))


def is_staff(request) -> bool:
    user = getattr(request, "user", None)
    # Customers never log in: any account (kitchen, marketing, admin) is staff. A query only with a session.
    return user is not None and user.is_authenticated


def is_tracked_path(path: str) -> bool:
    return not path.startswith(UNTRACKED_PREFIXES)


def weights() -> dict[str, int]:
    return {name: v.weight for name, v in settings.VARIANT_SET.variants.items()}


def beacon(token: str) -> bytes:
    """Fires once the page is really shown (static/experiment/seen.js: no inline script under the CSP);
    the <noscript> image counts browsers without JavaScript."""
    url = f"/seen/{token}"
    return (
        f'<script src="{static("experiment/seen.js")}" data-seen="{url}"></script>'
        f'<noscript><img src="{url}" alt="" width="1" height="1" class="seen"></noscript>'
    ).encode()


class VisitorMiddleware:
    """Gives visitors of customer pages the pz_visitor cookie (hashing to this variant) and the beacon."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "GET" or not is_tracked_path(request.path_info):
            return self.get_response(request)
        current = request.COOKIES.get(VISITOR_COOKIE, "")
        is_new = not VISITOR_ID.match(current)
        # A new visitor gets an id whose hash lands on the variant serving them: their next visit returns here.
        visitor_id = assignment.mint_visitor_id(settings.VARIANT, weights()) if is_new else current
        request.visitor_id = visitor_id
        response = self.get_response(request)
        if is_new:
            response.set_cookie(
                VISITOR_COOKIE,
                visitor_id,
                max_age=COOKIE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        routed = assignment.assigned_variant(visitor_id, weights()) if sum(weights().values()) else settings.VARIANT
        if request.COOKIES.get(ROUTE_COOKIE) != routed:
            response.set_cookie(ROUTE_COOKIE, routed, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax", secure=request.is_secure())
        if self._is_exposure_page(request, response):
            self._add_beacon(response, beacon(tokens.seen_token(visitor_id, settings.VARIANT)))
        return response

    @staticmethod
    def _is_exposure_page(request, response) -> bool:
        match = getattr(request, "resolver_match", None)
        if match is None or match.view_name not in EXPOSURE_VIEWS:
            return False
        if not getattr(settings, "RECORD_EXPOSURES", True) or response.status_code != 200 or response.streaming:
            return False
        if not response.get("Content-Type", "").startswith("text/html") or is_bot(request):
            return False
        return not is_staff(request)

    @staticmethod
    def _add_beacon(response, snippet: bytes) -> None:
        content = response.content
        at = content.rfind(b"</body>")
        response.content = content[:at] + snippet + content[at:] if at >= 0 else content + snippet
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
