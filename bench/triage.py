"""Triage speed: classification of one message, the whole pipeline, and a fusion decision among a million open
cases. Prints one JSON object.

    python bench/triage.py [--db-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--messages 3000]
                           [--pipeline-reports 2000] [--cases 1000000] [--decisions 2000]

- classify: the shipped model's `predict_one` over realistic messages, one at a time as the worker calls it;
  the baseline, in the same run on the same messages, is the plain scikit-learn pipeline (character 1–2-gram
  TF-IDF + LinearSVC) trained on the same rows, also one message at a time.
- pipeline: reports stored, then `triage.worker.drain` on a fresh database with the demo city (locate → classify
  → fuse → route → deadline, every case opened, registered and dispatched with its audit records); the rate of
  storing the same reports, measured in the same run, is its baseline.
- fusion: bench/fusion.py's million open cases and its SELECT 1 baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import fusion as fusion_bench  # bench/ is on sys.path when a benchmark runs as a script
from machine import machine
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC
from sqlalchemy import create_engine, text

from cityops.core import migrate
from cityops.core.db import create_db_engine
from cityops.core.settings import Settings
from cityops.demo.loader import load_demo
from cityops.intake import flows
from cityops.intake.schemas import ReportIn
from cityops.org.access import system_principal
from cityops.platform import build_platform
from cityops.triage import model_store, worker

ROOT = Path(__file__).resolve().parent.parent


def messages(n: int) -> list[str]:
    """The shipped examples' texts and the held-out evaluation set's reports, repeated to n."""
    import csv

    texts = [t for t, _ in model_store.shipped_examples()]
    with (ROOT / "tests/triage/data/broad_classes_eval.csv").open(encoding="utf-8-sig") as handle:
        texts += [r["留言主题"] + "\n" + r["留言详情"] for r in csv.DictReader(handle)]
    random.Random(3).shuffle(texts)
    return (texts * (n // len(texts) + 1))[:n]


def classify(n: int) -> dict[str, float]:
    texts = messages(n)
    model = model_store.train_shipped()
    examples = model_store.shipped_examples()
    baseline = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 2)), LinearSVC())
    baseline.fit([t for t, _ in examples], [label for _, label in examples])
    for text_ in texts[:100]:  # warm up both
        model.predict_one(text_)
        baseline.predict([text_])
    started = time.perf_counter()
    for text_ in texts:
        model.predict_one(text_)
    ours = time.perf_counter() - started
    started = time.perf_counter()
    for text_ in texts:
        baseline.predict([text_])
    theirs = time.perf_counter() - started
    return {"classify_messages_per_s": round(len(texts) / ours), "classify_mean_ms": round(ours / len(texts) * 1000, 4),
            "baseline_sklearn_messages_per_s": round(len(texts) / theirs),
            "mean_message_chars": round(statistics.mean(len(t) for t in texts))}


def pipeline(db_url: str, n: int) -> dict[str, float | str]:
    folder = Path(tempfile.mkdtemp(prefix="cityops-bench-"))
    schema = None
    if db_url.startswith("postgresql"):
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with create_engine(db_url, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{db_url}?options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{folder / 'cityops.db'}"
    try:
        engine = create_db_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        platform = build_platform(Settings(data_dir=folder, database_url=url, run_workers=False))
        try:
            load_demo(platform)
            worker.drain(platform)  # the demo's own reports, so the timed run starts from an empty queue
            model_store.current_classifier(platform)  # trained once per process: not part of the rate
            rng = random.Random(4)
            texts = messages(n)
            reports = []
            for i, words in enumerate(texts):
                lng, lat, _, _ = fusion_bench.place(rng)
                reports.append(ReportIn.model_validate({
                    "channel": "patrol", "channel_report_id": f"bench-{i}", "text": words, "lng": lng, "lat": lat}))
            started = time.perf_counter()
            flows.receive_many(platform, reports=reports, submitted_by=system_principal("bench"))
            store_s = time.perf_counter() - started
            started = time.perf_counter()
            result = worker.drain(platform)
            drain_s = time.perf_counter() - started
        finally:
            platform.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if schema:
            with create_engine(db_url, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    return {"pipeline_backend": "postgresql" if schema else "sqlite", "pipeline_reports": n,
            "pipeline_reports_per_s": round(n / drain_s, 1), "baseline_store_reports_per_s": round(n / store_s, 1),
            "pipeline_new_cases": result.cases, "pipeline_fused": result.fused,
            "pipeline_dispatched": result.dispatched, "pipeline_waiting": result.waiting}


def main() -> None:
    parser = argparse.ArgumentParser()
    env_url = os.environ.get("CITYOPS_DATABASE_URL", "")
    parser.add_argument("--db-url", default=env_url if env_url.startswith("postgresql") else fusion_bench.DEFAULT_URL)
    parser.add_argument("--pipeline-db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--pipeline-reports", type=int, default=2000)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--decisions", type=int, default=2000)
    args = parser.parse_args()

    figures: dict[str, object] = {"benchmark": "triage"}
    if args.cases:  # first, while the database server has nothing else to do
        fusion = fusion_bench.run(args.db_url, args.cases, args.decisions)
        figures.update({k: v for k, v in fusion.items() if k not in ("benchmark", "machine")})
    figures.update(classify(args.messages))
    figures.update(pipeline(args.db_url if args.pipeline_db == "postgresql" else "sqlite", args.pipeline_reports))
    figures["machine"] = machine()
    print(json.dumps(figures, ensure_ascii=False))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
