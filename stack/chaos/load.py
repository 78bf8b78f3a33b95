"""The load generator: steady open-loop traffic through the load balancer, as customers send it,
and what the client saw (every attempt, every acknowledged order) for the accounting.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import requests

from ..http import BROWSER_UA, SEEN, form_fields
from ..stats import percentile

# 409 is the API's "this Idempotency-Key is still in flight": retry the same request later.
RETRYABLE_PREFIXES = ("5", "409", "conn_error", "timeout")


def classify(response: requests.Response) -> str | None:
    """None for a success; else the kind of failure. An answer without X-Pizza-Variant came from
    the load balancer itself (no ready server, or the server broke the connection)."""
    code = response.status_code
    if code < 400:
        return None
    from_app = "X-Pizza-Variant" in response.headers
    if code == 503:
        if not from_app:  # HAProxy's own: no ready server, or its queue timed out (overload shed)
            return "503_lb" if response.headers.get("Retry-After") else "503_lb_no_retry_after"
        return "503_app" if response.headers.get("Retry-After") else "503_app_no_retry_after"
    if code in (502, 504) and not from_app:
        return f"{code}_lb"
    if code >= 500 and "Traceback" in response.text:
        return f"{code}_traceback"
    return str(code)


def retryable(kind: str) -> bool:
    return kind.startswith(RETRYABLE_PREFIXES)


def backoff(failures: int, retry_after: str | None) -> float:
    """Seconds before the next attempt, as a well-behaved client waits: exponential (0.2 s doubling
    to 4 s) with +-20% jitter, never less than Retry-After, which is capped at 1 s so a short outage
    is measured rather than slept through. Without the growth and the jitter, hundreds of clients
    shed together would all come back together, and an overload would feed itself."""
    pause = min(0.1 * 2**failures, 4.0)
    if retry_after and retry_after.isdigit():
        pause = max(pause, min(float(retry_after), 1.0))
    return pause * random.uniform(0.8, 1.2)


class VisitorSession(requests.Session):
    """A session that remembers the visitor it plays (read back with getattr(session, "visitor", None))."""

    visitor: int


@dataclass
class Stats:
    """What the client saw. A request is one logical call (its retries included)."""

    requests: int = 0
    attempts: int = 0
    failed: Counter = field(default_factory=Counter)  # requests whose FIRST attempt failed, by kind
    errors: Counter = field(default_factory=Counter)  # every failed attempt, by kind
    unresolved: Counter = field(default_factory=Counter)  # requests that never succeeded, by last kind
    retries: int = 0
    latencies: list = field(default_factory=list)  # seconds, first attempt to final answer
    served: list = field(default_factory=list)  # (monotonic time, variant) of every successful answer
    attempted: set = field(default_factory=set)  # order tokens sent
    acked: dict = field(default_factory=dict)  # token -> set of (reference or access token) seen
    visitor_variants: dict = field(default_factory=dict)  # visitor number -> variants that answered them
    visitors_failed: set = field(default_factory=set)  # visitors who saw at least one failed attempt
    attempt_log: list = field(default_factory=list)  # (monotonic end, seconds, kind or None, is an order POST) per attempt
    lock: threading.Lock = field(default_factory=threading.Lock)

    def percentile_ms(self, p: float) -> float | None:
        """The p-th percentile (0-100) of the latencies in milliseconds; None without requests."""
        return percentile(self.latencies, p) * 1000 if self.latencies else None

    def attempts_between(self, since: float = 0.0, until: float = float("inf"), orders_only: bool = False) -> list:
        with self.lock:
            return [a for a in self.attempt_log if since <= a[0] <= until and (a[3] or not orders_only)]

    def served_by(self, since: float = 0.0, until: float = float("inf")) -> Counter:
        with self.lock:
            return Counter(v for t, v in self.served if since <= t <= until)


class Client:
    """One HTTP call with the client's retry rule: same request (same token) until it succeeds
    or the deadline passes; every failed attempt is counted, the first one included."""

    def __init__(self, base: str, stats: Stats, retry_deadline: float = 45.0):
        self.base = base
        self.stats = stats
        self.retry_deadline = retry_deadline

    def call(self, session: requests.Session, method: str, path: str, accept: tuple = (), **kwargs) -> requests.Response | None:
        """`accept`: status codes that are an answer here, not a failure (409 for a lost compare-and-set)."""
        start = time.monotonic()
        attempts, errors = 0, []
        response, kind = None, None
        while True:
            attempts += 1
            sent = time.monotonic()
            try:
                response = session.request(method, self.base + path, timeout=(3, 30), allow_redirects=False, **kwargs)
                kind = None if response.status_code in accept else classify(response)
            except requests.Timeout:
                response, kind = None, "timeout"
            except requests.RequestException:
                response, kind = None, "conn_error"
            with self.stats.lock:
                done = time.monotonic()
                self.stats.attempt_log.append((done, done - sent, kind, method == "POST"))
            if kind is None:
                break
            errors.append(kind)
            if not retryable(kind) or time.monotonic() - start > self.retry_deadline:
                break
            retry_after = response.headers.get("Retry-After") if response is not None else None
            time.sleep(backoff(len(errors), retry_after))
        end = time.monotonic()
        with self.stats.lock:
            self.stats.requests += 1
            self.stats.attempts += attempts
            self.stats.retries += attempts - 1
            self.stats.errors.update(errors)
            if errors:
                self.stats.failed[errors[0]] += 1
            if kind is not None:
                self.stats.unresolved[kind] += 1
            self.stats.latencies.append(end - start)
            visitor = getattr(session, "visitor", None)
            if errors:
                self.stats.visitors_failed.add(visitor)
            if kind is None:
                assert response is not None  # kind is None only for an accepted response
                self.stats.served.append((end, response.headers.get("X-Pizza-Variant", "?")))
                self.stats.visitor_variants.setdefault(visitor, set()).add(response.headers.get("X-Pizza-Variant", "?"))
        return response if kind is None else None


CUSTOMER = {
    "size": "medium",
    "quantity": 1,
    "customer_name": "Chaos Monkey",
    "phone": "+45 12 34 56 78",
    "address": "1 Loopback Street",
    "comments": "placed by stack.chaos",
}


class Load:
    """Steady open-loop load through the load balancer: orders (JSON API and, one in ten, the HTML
    form) at `order_rate` per second plus page views (/ and /order/) at `view_rate` per second."""

    def __init__(
        self,
        base: str,
        pizzas: list[int],
        order_rate: float,
        view_rate: float,
        threads: int,
        form_share: float = 0.1,
        requests_per_visitor: int = 20,
        stats: Stats | None = None,
        land_first: bool = False,
    ):
        self.stats = stats or Stats()  # several loads may share one Stats (one accounting over phases)
        self.client = Client(base, self.stats)
        self.pizzas = pizzas
        self.order_rate, self.view_rate = order_rate, view_rate
        self.total_rate = max(order_rate + view_rate, 0.1)
        self.form_share = form_share
        self.requests_per_visitor = requests_per_visitor
        # land_first: every new visitor first looks at the landing page (and its beacon, so they are
        # exposed) before their scheduled requests, as a customer does before ordering. An extra request,
        # outside the schedule. Off by default: the chaos scenarios' mix and bounds assume the plain schedule.
        self.land_first = land_first
        self.threads_n = threads
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.seq = 0
        self.seq_lock = threading.Lock()
        self.t0 = 0.0

    def __enter__(self):
        self.t0 = time.monotonic()
        for n in range(self.threads_n):
            thread = threading.Thread(target=self._worker, name=f"load-{n}", daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self) -> Stats:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(self.client.retry_deadline + 40)
        return self.stats

    def _worker(self) -> None:
        session, used = None, 0
        while not self.stop_event.is_set():
            with self.seq_lock:
                i = self.seq
                self.seq += 1
            wait = self.t0 + i / self.total_rate - time.monotonic()
            if wait > 0 and self.stop_event.wait(wait):
                break
            landing = False
            if session is None or used >= self.requests_per_visitor:  # a new visitor now and then: the weighted split places it
                if session is not None:
                    session.close()
                session, used, landing = VisitorSession(), 0, True
                session.headers["User-Agent"] = BROWSER_UA
                session.visitor = i  # who saw what: the canary's customers are counted per visitor
            used += 1
            rng = random.Random(i)
            try:
                if landing and self.land_first:
                    self.view(session, "/")
                if rng.random() < self.order_rate / self.total_rate:
                    (self.order_form if rng.random() < self.form_share else self.order_api)(session, rng)
                else:
                    self.view(session, rng.choice(["/", "/order/"]))
            except Exception as exc:  # a bug in the harness must not look like a quiet pass
                with self.stats.lock:
                    self.stats.unresolved[f"harness:{type(exc).__name__}"] += 1
        if session is not None:
            session.close()

    def _note_attempt(self, token: str) -> None:
        with self.stats.lock:
            self.stats.attempted.add(token)

    def _note_ack(self, token: str, reference: str) -> None:
        with self.stats.lock:
            self.stats.acked.setdefault(token, set()).add(reference)

    def order_api(self, session: requests.Session, rng: random.Random) -> None:
        token = str(uuid.uuid4())
        self._note_attempt(token)
        body = dict(CUSTOMER, pizza=rng.choice(self.pizzas))
        response = self.client.call(
            session, "POST", "/api/v1/orders", json=body, headers={"Idempotency-Key": token, "Accept": "application/json"}
        )
        if response is not None and response.status_code in (200, 201):
            self._note_ack(token, "ref:" + response.json()["reference"])

    def view(self, session: requests.Session, path: str) -> requests.Response | None:
        """A page as a browser shows it: the page, then the exposure beacon its script fetches."""
        page = self.client.call(session, "GET", path)
        seen = SEEN.search(page.text) if page is not None else None
        if seen:
            self.client.call(session, "GET", seen.group(1))
        return page

    def order_form(self, session: requests.Session, rng: random.Random) -> None:
        page = self.view(session, "/order/")
        if page is None:
            return
        fields = form_fields(page.text)
        if "form_token" not in fields or "csrfmiddlewaretoken" not in fields:
            with self.stats.lock:
                self.stats.unresolved["harness:no_form"] += 1
            return
        token = fields["form_token"]
        self._note_attempt(token)
        data = dict(CUSTOMER, pizza=rng.choice(self.pizzas), **fields)
        response = self.client.call(session, "POST", "/order/", data=data, headers={"Referer": self.client.base + "/order/"})
        if response is not None and response.status_code == 303 and "/confirmed/" in response.headers.get("Location", ""):
            access = response.headers["Location"].rstrip("/").split("/")[-2]
            self._note_ack(token, "access:" + access)
