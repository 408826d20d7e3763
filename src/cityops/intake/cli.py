"""`cityops intake …`: feed batches of messages through the same pipeline as live intake."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)
