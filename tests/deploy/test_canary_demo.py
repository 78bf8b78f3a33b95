"""The canary demo's bad build still breaks the order POSTs of today's app (a refactor that moves
them must fail here, in seconds, not as a crash of the slow stack test after minutes of set-up)."""

from __future__ import annotations

import ast

import pytest

from stack.chaos.harness import ChaosError
from stack.deploy.builds import copy_app
from stack.deploy.canary_demo import PATCHES, break_orders

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
