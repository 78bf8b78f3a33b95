"""The canary demo's bad build still breaks the order POSTs of today's app (a refactor that moves
them must fail here, in seconds, not as a crash of the slow stack test after minutes of set-up)."""

from __future__ import annotations

import ast

import pytest

from stack.chaos.harness import ChaosError
from stack.deploy.analysis import Check, Verdict
from stack.deploy.builds import copy_app
from stack.deploy.canary_demo import PATCHES, break_orders, failed_on_5xx

# file -> the view that takes the order POST there
ORDER_VIEWS = {"api/views.py": "place", "orders/views/customer.py": "order_create"}


def raising_functions(source: str) -> set[str]:
    """Names of the functions whose body raises the demo's RuntimeError."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Raise) and "canary demo" in ast.unparse(inner):
                    found.add(node.name)
    return found


def test_the_bad_build_raises_in_both_order_post_views(tmp_path):
    assert set(PATCHES) == set(ORDER_VIEWS)
    app = copy_app(tmp_path / "app")
    break_orders(app)
    for relative, view in ORDER_VIEWS.items():
        assert raising_functions((app / relative).read_text()) == {view}, relative


def test_a_moved_view_is_a_clear_error(tmp_path):
    app = copy_app(tmp_path / "app")
    (app / "api" / "views.py").unlink()
    with pytest.raises(ChaosError, match="api/views.py changed or moved"):
        break_orders(app)


def table(**statuses: str) -> str:
    return Verdict("fail", [Check(name, status, "", "", "") for name, status in statuses.items()]).table()


def test_the_bad_build_must_be_failed_by_its_5xx_answers_alone():
    assert failed_on_5xx(table(**{"5xx ratio, all requests": "fail", "5xx ratio, order POSTs": "wait"}))
    assert failed_on_5xx(table(**{"5xx ratio, order POSTs": "fail", "orders per visitor": "pass"}))
    assert not failed_on_5xx(table(**{"5xx ratio, order POSTs": "fail", "orders per visitor": "fail"}))  # conversion too
    assert not failed_on_5xx(table(**{"5xx ratio, order POSTs": "pass", "orders per visitor": "fail"}))
    assert not failed_on_5xx(table(**{"5xx ratio, order POSTs": "wait"}))  # nothing failed
    assert not failed_on_5xx("")
