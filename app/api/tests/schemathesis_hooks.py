"""Schemathesis hooks (SCHEMATHESIS_HOOKS): let generated valid orders name a pizza that exists.

A pizza id is data, not schema: without this, nearly every generated order is a 422 "choose a pizza
from the menu" and the order-placing path is never reached. Negative cases are left alone.
"""

import os

import schemathesis

PIZZA_IDS = [int(i) for i in os.environ.get("PIZZA_IDS", "").split(",") if i]


@schemathesis.hook
def map_case(context, case):
    body = case.body
    if PIZZA_IDS and not case.meta.generation.mode.is_negative and isinstance(body, dict) and isinstance(body.get("pizza"), int):
        body["pizza"] = PIZZA_IDS[body["pizza"] % len(PIZZA_IDS)]
    return case
