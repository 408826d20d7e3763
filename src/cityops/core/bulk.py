"""Writing many new rows of a unit of work as plain multi-row INSERTs instead of through the ORM's flush.

The flush asks the database for every generated id back (RETURNING, in one statement of hundreds of rows that
the driver parses anew each time) and registers each row in the session. For rows a transaction only adds and
never reads back (a batch's cases, timeline, audit records, outbox messages) that is most of the cost of
writing them. `insert_pending` takes them out of the session and inserts them table by table (COPY on
PostgreSQL), each table's rows in the order they were added, so generated ids and the audit chain come out as
the flush would give them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any, cast

import orjson
from sqlalchemy import JSON, Table, insert, inspect
from sqlalchemy.orm import Session

from cityops.core.db import Base


def insert_pending(session: Session, models: Sequence[type[Base]]) -> None:
    """The session's new objects of these models, inserted now in the given model order (a table that others
    refer to first) and no longer in the session. The caller must not use those objects afterwards."""
    kinds = tuple(models)
    pending = sorted((obj for obj in session.new if isinstance(obj, kinds)),
                     key=lambda obj: inspect(obj).insert_order or 0)
    rows: dict[type[Base], list[dict[str, Any]]] = {}
    for obj in pending:
        session.expunge(obj)
        rows.setdefault(type(obj), []).append(_column_values(obj))
    for model in kinds:
        if model in rows:
            insert_rows(session, cast(Table, model.__table__), rows[model])


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """New rows (each with the same columns, a generated id left out) in the session's transaction, in order.
    PostgreSQL: COPY, the cheapest way in for both sides (values adapted by the columns' own types, as an
    INSERT would); elsewhere one INSERT given every row."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql":
        connection.execute(insert(table), list(rows))
        return
    names = list(rows[0])
    processors = [json_text if isinstance(table.c[name].type, JSON) else table.c[name].type._cached_bind_processor(
        dialect) for name in names]
    quoted = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(
            f"COPY {dialect.identifier_preparer.format_table(table)} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([value if process is None else process(value)  # None too: JSON null, as INSERT
                            for value, process in zip(row.values(), processors, strict=True)])


def json_text(value: Any) -> str:
    """A JSON column's text for COPY, by orjson: the json module was a tenth of a triage batch's time. None is
    JSON null, as an INSERT through the column's type writes it."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # what orjson refuses (an integer past 64 bits): as the json module writes it
        return json.dumps(value)


def _column_values(obj: Base) -> dict[str, Any]:
    """The row's values by column as the flush would write them: a column never set gets its default, and a
    generated id is left out for the database to assign."""
    values = inspect(obj).dict
    found: dict[str, Any] = {}
    for attr, column, default, generated in _columns(type(obj)):
        if attr in values:
            if not (generated and values[attr] is None):
                found[column] = values[attr]
        elif not generated:
            found[column] = default
    return found


@functools.cache
def _columns(model: type[Base]) -> list[tuple[str, str, Any, bool]]:
    """(attribute, column, default when never set, generated id) for each column of the model."""
    table = cast(Table, model.__table__)
    found = []
    for prop in inspect(model).column_attrs:
        column = prop.columns[0]
        default = column.default.arg if column.default is not None and column.default.is_scalar else None
        found.append((prop.key, column.key, default, column is table.autoincrement_column))
    return found
