"""`cityops triage …`: train, evaluate and cross-validate the report classifier; evaluate fusion."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)
