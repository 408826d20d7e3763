"""`cityops triage train | evaluate | cross-validate | retrain | classify`: the report classifier at the terminal.

JSON on stdout, progress on stderr; a bad file or column exits 2 naming the column, in zh-CN and English.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from cityops.cli.common import DataDirOption, handles_domain_errors, platform_for, print_json, progress_bar
from cityops.triage import evaluation, labelled, model_file, model_store
from cityops.triage.classify import Classifier

InputOption = typer.Option(
    ..., "--input", exists=True, dir_okay=False, help="CSV (UTF-8/GB18030) 或 XLSX / CSV (UTF-8/GB18030) or XLSX"
)
TextColumnOption = typer.Option(
    ..., "--text-column", help="文本列，可重复，第一列为主题 / text column, repeatable; the first is the subject"
)
LabelColumnOption = typer.Option(..., "--label-column", help="类别列 / label column")
CatalogOption = typer.Option(
    None, "--catalog", exists=True, dir_okay=False,
    help="分类目录文件：类别名称、关键词作为额外样本 / category catalogue whose names and keywords join the training",
)
CatalogLabelOption = typer.Option(None, "--catalog-label-column", help="目录中的类别列 / catalogue label column")
CatalogTextOption = typer.Option(
    None, "--catalog-text-column", help="目录中的名称/关键词列，可重复 / catalogue name or keyword column, repeatable"
)
SubjectWeightOption = typer.Option(
    1, "--subject-weight", min=1, max=5, help="主题列重复次数 / times the first text column counts"
)


@handles_domain_errors
def train(
    input: Path = InputOption,
    text_column: list[str] = TextColumnOption,
    label_column: str = LabelColumnOption,
    model_out: Path = typer.Option(..., "--model-out", dir_okay=False, help="模型文件 / model file to write"),
    subject_weight: int = SubjectWeightOption,
    catalog: Path | None = CatalogOption,
    catalog_label_column: str | None = CatalogLabelOption,
    catalog_text_column: list[str] | None = CatalogTextOption,
) -> None:
    """训练分类模型。Train a classifier on a labelled file and save it."""
    data = labelled.read_labelled(
        input, text_columns=text_column, label_column=label_column, subject_weight=subject_weight
    )
    labelled.require_two_labels(data, label_column)
    known = set(data.labels)
    extra = [(t, label) for t, label in _catalog(catalog, catalog_label_column, catalog_text_column) if label in known]
    with progress_bar("训练 / training", show_from=0) as progress:
        model = Classifier().fit(data.texts + [t for t, _ in extra], data.labels + [lb for _, lb in extra], progress)
    meta = model_file.save(
        model, model_out, rows=len(data.texts), subject_weight=subject_weight, extra={"text_columns": text_column}
    )
    print_json({"model": str(model_out), **meta})


@handles_domain_errors
def evaluate(
    model: Path = typer.Option(..., "--model", dir_okay=False, help="模型文件 / model file"),
    input: Path = InputOption,
    text_column: list[str] = TextColumnOption,
    label_column: str = LabelColumnOption,
) -> None:
    """在标注数据上评估模型。Accuracy, macro-F1, per-class figures and the confusion matrix of a saved model."""
    classifier, meta = model_file.load(model)
    data = labelled.read_labelled(
        input, text_columns=text_column, label_column=label_column, subject_weight=int(meta.get("subject_weight", 1))
    )
    predicted = [p.label for p in classifier.predict(data.texts)]
    print_json(evaluation.metrics(data.labels, predicted))


@handles_domain_errors
def cross_validate(
    input: Path = InputOption,
    text_column: list[str] = TextColumnOption,
    label_column: str = LabelColumnOption,
    folds: int = typer.Option(5, "--folds", min=2, max=20, help="折数 / number of folds"),
    compare_baseline: bool = typer.Option(
        True,
        "--compare-baseline/--no-compare-baseline",
        help="同时评估字符 1–2 元 TF-IDF + LinearSVC 基线 / also run the char 1–2-gram baseline",
    ),
    seed: int = typer.Option(0, "--seed", help="分折随机种子 / fold shuffling seed"),
    subject_weight: int = SubjectWeightOption,
    catalog: Path | None = CatalogOption,
    catalog_label_column: str | None = CatalogLabelOption,
    catalog_text_column: list[str] | None = CatalogTextOption,
) -> None:
    """分层交叉验证。Stratified cross-validation; the model's figures on top, the baseline's under "baseline"."""
    data = labelled.read_labelled(
        input, text_columns=text_column, label_column=label_column, subject_weight=subject_weight
    )
    labelled.require_rows_per_label(data, label_column, folds)
    rows = [row for row in _catalog(catalog, catalog_label_column, catalog_text_column) if row[1] in set(data.labels)]
    predictors: dict[str, evaluation.Predictor] = {"model": evaluation.model_predictor(catalog=rows)}
    if compare_baseline:
        predictors["baseline"] = evaluation.baseline_predictor
    with progress_bar("交叉验证 / cross-validating", show_from=0) as progress:
        results = evaluation.cross_validate(
            data.texts,
            data.labels,
            folds=folds,
            predictors=predictors,
            seed=seed,
            on_fold=lambda done: progress(done, folds),
        )
    output: dict[str, Any] = {**results["model"], "seed": seed, "catalog_rows": len(rows)}
    if compare_baseline:
        output["baseline"] = {"name": "char 1-2-gram TF-IDF + LinearSVC", **results["baseline"]}
    print_json(output)


@handles_domain_errors
def retrain(
    model_out: Path | None = typer.Option(
        None, "--model-out", dir_okay=False, help="模型文件（默认写入数据目录 models/）/ model file"
    ),
    data_dir: Path | None = DataDirOption,
) -> None:
    """用内置样本和派遣员更正重新训练。Retrain on the shipped examples plus dispatchers' corrections."""
    with platform_for(data_dir) as platform, progress_bar("训练 / training", show_from=0) as progress:
        result = model_store.retrain(platform, output=model_out, progress=progress)
    print_json(
        {
            "model": str(result.path),
            "rows": result.rows,
            "shipped_rows": result.shipped_rows,
            "corrections": result.corrections,
            "labels": result.labels,
        }
    )


@handles_domain_errors
def classify(
    text: str = typer.Argument(..., help="上报内容 / report text"), data_dir: Path | None = DataDirOption
) -> None:
    """对一条上报分类。Classify one report with the platform's current model."""
    with platform_for(data_dir) as platform:
        result = model_store.classify(platform, text)
    prediction = result.prediction
    print_json(
        {
            "label": prediction.label,
            "confidence": round(prediction.confidence, 4),
            "top": [[label, round(p, 4)] for label, p in prediction.top],
            "needs_dispatcher": result.needs_dispatcher,
        }
    )


def _catalog(path: Path | None, label_column: str | None, text_columns: list[str] | None) -> list[tuple[str, str]]:
    """(text, label) rows of a category catalogue: each name or keyword cell is one short example."""
    if path is None:
        return []
    if not label_column or not text_columns:
        raise typer.BadParameter("--catalog 需同时指定 --catalog-label-column 与 --catalog-text-column / "
                                 "--catalog needs --catalog-label-column and --catalog-text-column",
                                 param_hint="--catalog")
    rows = []
    for column in text_columns:
        data = labelled.read_labelled(path, text_columns=[column], label_column=label_column)
        rows += list(zip(data.texts, data.labels, strict=True))
    return sorted(set(rows))


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("evaluate")(evaluate)
    app.command("cross-validate")(cross_validate)
    app.command("retrain")(retrain)
    app.command("classify")(classify)
