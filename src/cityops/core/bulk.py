"""Writing many new rows as plain rows instead of through the ORM's flush.

The flush asks the database for every generated id back (RETURNING, in one statement of hundreds of rows that
the driver parses anew each time) and registers each row in the session; building the ORM objects costs more
still. For rows a transaction only adds and never reads back (a triage batch's cases, timeline, audit records,
outbox messages) `insert_rows` writes dictionaries table by table (COPY on PostgreSQL), in the order given, so
generated ids come out as the flush would give them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import JSON, Table, insert
from sqlalchemy.orm import Session


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
