"""`cityops triage evaluate-fusion`: precision and recall of fusion on labelled pairs of reports."""

from __future__ import annotations

from pathlib import Path

import typer

from cityops.cli.common import handles_domain_errors, print_json
from cityops.core.tabular import read_table
from cityops.triage.fusion import load_policies, parse_policies
from cityops.triage.fusion_eval import evaluate, parse_pairs


@handles_domain_errors
def evaluate_fusion(
    input: Path = typer.Option(..., "--input", exists=True, dir_okay=False,
                               help="标注的上报对 CSV/XLSX / labelled pairs (columns: docs/triage.md)"),
    policies: Path | None = typer.Option(None, "--policies", exists=True, dir_okay=False,
                                         help="另一份合并策略 CSV / other fusion policies to try"),
    errors: int = typer.Option(5, "--errors", min=0, help="列出的误判条数 / misjudged pairs to list"),
    min_precision: float | None = typer.Option(None, "--min-precision", min=0, max=1,
                                               help="低于此精确率则退出码为 1 / exit 1 below this precision"),
    min_recall: float | None = typer.Option(None, "--min-recall", min=0, max=1,
                                            help="低于此召回率则退出码为 1 / exit 1 below this recall"),
) -> None:
    """评估上报合并的精确率与召回率。Precision and recall of fusion on labelled pairs (B joins A or not)."""
    rules = parse_policies(policies.read_text(encoding="utf-8-sig"), source=policies.name) if policies \
        else load_policies()
    figures = evaluate(parse_pairs(read_table(input.read_bytes())), rules, errors=errors)
    print_json(figures)
    if (min_precision is not None and figures["precision"] < min_precision) or \
            (min_recall is not None and figures["recall"] < min_recall):
        typer.echo("低于要求 / below the required precision or recall", err=True)
        raise typer.Exit(1)
