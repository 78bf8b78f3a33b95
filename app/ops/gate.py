"""The expand/contract gate: read the SQL each migration generates and refuse what would break a
release that is still running the previous code.

An expand step only adds (a nullable column, a column with a database default, a table, an index
built concurrently, a constraint added NOT VALID). Anything that removes, renames, retypes or
takes a long lock on a busy table must either be written the safe way or be marked as a contract
step (`contract_safe_from = "<migration>"`), which the deploy applies only after every release
runs code from that migration on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from django.db import connections
from django.db.migrations.loader import MigrationLoader

from .schema import PROJECT_APPS, contract_rule

IDENT = r'"?([\w$]+)"?'


@dataclass(frozen=True)
class Problem:
    migration: str
    rule: str
    statement: str
    advice: str

    def __str__(self) -> str:
        return f"{self.migration}: {self.rule}\n    SQL: {self.statement[:200]}\n    Instead: {self.advice}"


class Rule(NamedTuple):
    """A statement the gate refuses on a table that existed before (old code still reads and writes it)."""

    what: str
    pattern: re.Pattern
    advice: str
    contract_may_do_it: bool  # a contract step (contract_safe_from) may do it: no running release needs what it removes


def refuse(what: str, pattern: str, advice: str, *, unless_contract: bool = False) -> Rule:
    return Rule(what, re.compile(pattern, re.I), advice, unless_contract)


RULES = [
    refuse(
        "drops a column",
        r"ALTER TABLE .* DROP COLUMN",
        "keep the column until no running release reads it; drop it in a contract step (set contract_safe_from to the migration whose code stopped using it)",
        unless_contract=True,
    ),
    refuse("drops a table", r"^DROP TABLE", "drop it in a contract step once no running release uses the model", unless_contract=True),
    refuse(
        "renames a column or table",
        r"\bRENAME\b",
        "add the new column (expand), write both, backfill, switch reads, then drop the old one in a contract step (see docs/schema-changes.md)",
        unless_contract=True,
    ),
    refuse(
        "changes a column's type",
        r"ALTER COLUMN \S+ TYPE",
        "add a new column of the new type, backfill it, switch the code, and drop the old one later",
    ),
    refuse(
        "makes a column NOT NULL",
        r"ALTER COLUMN \S+ SET NOT NULL",
        "add a CHECK (col IS NOT NULL) NOT VALID constraint, VALIDATE it in a later migration, and only then SET NOT NULL in a contract step",
        unless_contract=True,
    ),
    refuse(
        "builds an index without CONCURRENTLY (blocks writes to the table)",
        r"^CREATE (UNIQUE )?INDEX (?!CONCURRENTLY)",
        "use ops.migration_ops.AddIndexOnline (CREATE INDEX CONCURRENTLY) in a migration with atomic = False",
    ),
    refuse(
        "adds a constraint that scans the table under lock (no NOT VALID)",
        r"ADD CONSTRAINT .*\b(CHECK|FOREIGN KEY)\b(?!.*NOT VALID)",
        "add it NOT VALID (RunSQL) and VALIDATE CONSTRAINT in a separate migration",
    ),
]

ADD_COLUMN = re.compile(r"ALTER TABLE " + IDENT + r" ADD COLUMN " + IDENT + r"(.*)", re.I)
DROP_DEFAULT = re.compile(r"ALTER TABLE " + IDENT + r" ALTER COLUMN " + IDENT + r" DROP DEFAULT", re.I)
CREATE_TABLE = re.compile(r"^CREATE TABLE " + IDENT, re.I)
TABLE_OF = re.compile(r"(?:ALTER TABLE|DROP TABLE|CREATE (?:UNIQUE )?INDEX (?:CONCURRENTLY )?(?:IF NOT EXISTS )?\S+ ON) " + IDENT, re.I)


def statements_of(migration, loader: MigrationLoader, alias: str = "default") -> list[str]:
    """The SQL `migration` runs on PostgreSQL, one statement per item, from the state before it."""
    connection = connections[alias]
    key = (migration.app_label, migration.name)
    # A migration on disk starts from the state just before it; one built by a test, from today's schema.
    state = loader.project_state(key, at_end=False) if key in loader.graph.nodes else loader.project_state()
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        migration.apply(state, editor, collect_sql=True)
    statements = []
    for chunk in editor.collected_sql:
        chunk = chunk.strip()
        if chunk and not chunk.startswith("--"):
            statements.append(" ".join(chunk.split()))
    return statements


def check_statements(name: str, statements: list[str], is_contract: bool) -> list[Problem]:
    problems: list[Problem] = []
    created = {m.group(1) for s in statements if (m := CREATE_TABLE.match(s))}
    for index, sql in enumerate(statements):
        table = TABLE_OF.search(sql)
        if table and table.group(1) in created:
            continue  # a table made in this same migration has no readers yet
        added = ADD_COLUMN.match(sql)
        if added and "NOT NULL" in added.group(3).upper():
            table_name, column, rest = added.groups()
            later_drop = any((m := DROP_DEFAULT.match(s)) and m.groups() == (table_name, column) for s in statements[index + 1 :])
            if " DEFAULT " not in f" {rest.upper()} " or later_drop:
                problems.append(
                    Problem(
                        name,
                        f"adds NOT NULL column {column} without a database default",
                        sql,
                        "give the field db_default=... (kept in the database), or make it null=True; "
                        "old code inserts rows without this column",
                    )
                )
            continue
        for rule, pattern, advice, contract_ok in RULES:
            if pattern.search(sql) and not (contract_ok and is_contract):
                problems.append(Problem(name, rule, sql, advice))
    return problems


def check_migration(migration, loader: MigrationLoader, alias: str = "default") -> list[Problem]:
    """Check one migration (on disk, or built in memory by a test) against the state before it."""
    name = f"{migration.app_label}.{migration.name}"
    return check_statements(name, statements_of(migration, loader, alias), is_contract=contract_rule(migration) is not None)


def check_all(alias: str = "default", apps: tuple[str, ...] = PROJECT_APPS) -> tuple[int, list[Problem]]:
    """Check every migration of our own apps; returns (how many were read, the problems)."""
    loader = MigrationLoader(connections[alias], ignore_no_migrations=True)
    checked, problems = 0, []
    for key in sorted(loader.disk_migrations):
        if key[0] not in apps:
            continue
        migration = loader.disk_migrations[key]
        rule = contract_rule(migration)
        if rule is not None and (key[0], rule) not in loader.disk_migrations:
            problems.append(
                Problem(
                    f"{key[0]}.{key[1]}",
                    f"names contract_safe_from={rule!r}, which is not a migration of {key[0]}",
                    "",
                    "name the first expand migration whose code no longer uses what this step removes",
                )
            )
        problems += check_statements(f"{key[0]}.{key[1]}", statements_of(migration, loader, alias), is_contract=rule is not None)
        checked += 1
    return checked, problems
