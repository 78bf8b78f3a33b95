"""6. Staff contention: 50 concurrent status changes on one order; exactly one wins, the others are
told why (409), and the order moves once."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import requests

from ...http import form_fields
from ..harness import STAFF_PASSWORD, ChaosError
from ..load import CUSTOMER, Client

NUMBER = 6
NAME = "staff contention"


def run(h, result) -> None:
    contenders = 50
    logins = h.args.logins
    stats = result.stats
    client = Client(h.base, stats)
    since = h.max_order_id()
    reference = place_order(h, client, stats)
    # Each login hashes the password (slow on purpose); a few real sessions, shared round-robin.
    sessions = [login(h, client) for _ in range(logins)]
    cookie_sets = [{k: v for k, v in s.cookies.items() if k in ("sessionid", "csrftoken") and v is not None} for s in sessions]
    answers = contend(h, client, reference, cookie_sets, contenders)
    codes = Counter(code for code, _ in answers)
    winners = [body for code, body in answers if code == 200 and body.get("ok") is True]
    losers = [body for code, body in answers if code == 409]
    status = h.pg.query("SELECT status FROM orders_order WHERE reference = %s", (reference,))[0][0]
    result.notes.append(
        f"{contenders} concurrent status changes from {logins} staff session(s): {dict(codes)}; "
        f"a loser was told: {losers[0].get('message') if losers else '-'}"
    )
    result.check("exactly one status change won (200 ok)", len(winners) == 1)
    result.check(
        f"the other {contenders - 1} got 409 with a reason",
        len(losers) == contenders - 1 and all(b.get("ok") is False and b.get("message") for b in losers),
    )
    result.check("the order moved once: received -> baking", status == "baking")
    result.check("no request failed", not stats.failed)
    h.account(result, since)


def place_order(h, client: Client, stats) -> str:
    """The order to fight over, placed through the API and accounted for; returns its reference."""
    token = str(uuid.uuid4())
    stats.attempted.add(token)
    with requests.Session() as s:
        response = client.call(s, "POST", "/api/v1/orders", json=dict(CUSTOMER, pizza=h.pizzas[0]), headers={"Idempotency-Key": token})
    if response is None:
        raise ChaosError("could not place the order to fight over")
    reference = response.json()["reference"]
    stats.acked[token] = {"ref:" + reference}
    return reference


def login(h, client: Client) -> requests.Session:
    session = requests.Session()
    page = client.call(session, "GET", "/accounts/login/")
    csrf = form_fields(page.text).get("csrfmiddlewaretoken", "") if page is not None else ""
    done = client.call(
        session,
        "POST",
        "/accounts/login/",
        data={"username": "staff", "password": STAFF_PASSWORD, "csrfmiddlewaretoken": csrf},
        headers={"Referer": h.stack.url("/accounts/login/")},
    )
    if done is None or done.status_code != 302:
        raise ChaosError(f"staff login failed ({done.status_code if done is not None else 'no answer'})")
    return session


def contend(h, client: Client, reference: str, cookie_sets: list[dict], contenders: int) -> list[tuple[int, dict]]:
    """`contenders` threads released together, each asking to move the order received -> baking;
    returns every (status code, JSON body) (0, {} when there was no answer)."""
    barrier = threading.Barrier(contenders)
    answers: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        session = requests.Session()  # no PZV cookie: the contenders spread over A, B and C
        session.cookies.update(cookie_sets[n % len(cookie_sets)])
        barrier.wait()
        response = client.call(
            session,
            "POST",
            f"/staff/orders/{reference}/status/",
            accept=(409,),
            data={"expected": "received", "status": "baking"},
            headers={
                "Accept": "application/json",
                "X-CSRFToken": session.cookies.get("csrftoken", ""),
                "Referer": h.stack.url("/staff/orders/"),
            },
        )
        with lock:
            answers.append(answer_of(response))

    threads = [threading.Thread(target=one, args=(n,)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with lock:  # a contender still out after 60 s may yet answer: a copy of the answers so far
        return list(answers)


def answer_of(response: requests.Response | None) -> tuple[int, dict]:
    """(status code, JSON body): (0, {}) without an answer, an empty body when it is not JSON."""
    if response is None:
        return 0, {}
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, {}
