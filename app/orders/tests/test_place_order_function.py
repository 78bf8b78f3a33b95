"""orders_place_order (migration orders.0007) writes every column of an order by name: a column added
to Order later must be added to the function too (in a new migration that replaces it), or orders
placed through the one-statement path would silently get the column's default."""

from __future__ import annotations

import importlib
import re

from orders.models import Order

migration = importlib.import_module("orders.migrations.0007_place_order_function")


def inserted_columns() -> list[str]:
    match = re.search(r"INSERT INTO orders_order \(([^)]*)\)", migration.PLACE_ORDER)
    assert match, "the function's INSERT was not found"
    return [column.strip() for column in match.group(1).split(",")]


def test_the_function_writes_every_column_of_an_order_but_its_id():
    columns = inserted_columns()
    assert len(columns) == len(set(columns)), columns
    model = {field.column for field in Order._meta.concrete_fields} - {Order._meta.pk.column}
    assert set(columns) == model, f"missing: {sorted(model - set(columns))}; unknown: {sorted(set(columns) - model)}"


def test_the_function_takes_one_argument_per_value_it_inserts():
    arguments = re.findall(r"\bp_\w+", migration.PLACE_ORDER.split("LANGUAGE")[0])
    assert len(arguments) == len(migration.SIGNATURE.split(",")), (arguments, migration.SIGNATURE)
