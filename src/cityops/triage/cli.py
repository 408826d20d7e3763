"""`cityops triage …`: train, evaluate and cross-validate the report classifier; evaluate fusion."""

from __future__ import annotations

import typer

from cityops.triage import classify_cli, fusion_cli

app = typer.Typer(no_args_is_help=True)

classify_cli.register(app)
app.command("evaluate-fusion")(fusion_cli.evaluate_fusion)
