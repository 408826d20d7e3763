"""The demo city's data hub: catalogue entries for its generated registers, their rows, and the base registers
built from them. Loading twice changes nothing: entries are unchanged and files are imported only once."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any, Final

from cityops.datahub import flows, register_flows, service
from cityops.org.access import SYSTEM_ACTOR
from cityops.platform import Platform

REGISTERS_DIR: Final = files("cityops.demo") / "data" / "registers"


def demo_datasets() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(REGISTERS_DIR.joinpath("datasets.json").read_text("utf-8"))["datasets"]
    return entries


def load_demo_datahub(platform: Platform) -> None:
    built = []
    for entry in demo_datasets():
        values = {k: v for k, v in entry.items() if k != "file"}
        code, _outcome = flows.save_dataset(platform, actor=SYSTEM_ACTOR, values=values)
        with platform.db.session() as session:
            empty = service.get_dataset_or_raise(session=session, code=code).row_count == 0
        if empty and entry.get("file"):
            content = REGISTERS_DIR.joinpath(entry["file"]).read_bytes()
            job = flows.import_file(platform, actor=SYSTEM_ACTOR, dataset_code=code, mode="replace",
                                    file=flows.ImportFile(f"demo:{entry['file']}", content))
            if job.status != "succeeded":
                raise RuntimeError(f"demo dataset {code} did not import: {job.errors[:3]}")
        if empty and entry.get("register"):
            built.append(entry["register"])
    for register in built:
        register_flows.build_register(platform, actor=SYSTEM_ACTOR, register=register)
