#!/usr/bin/env python3
"""Set up and run CityOps with nothing but Python 3.11+ and pip.

    python3 dev.py demo [cityops demo options]   # the demo city at http://127.0.0.1:8000
    python3 dev.py test [pytest options]         # lint, type check and the whole test suite

The first run creates .venv and installs the project into it; later runs reinstall only when
pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".cityops-installed"


def _run(*args: str | Path, env: dict[str, str] | None = None) -> int:
    return subprocess.call([str(a) for a in args], cwd=ROOT, env=env)


def ensure_environment() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be started by an older python3
        sys.exit(f"CityOps needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print("creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing CityOps and its dependencies into .venv …", flush=True)
    pip = [BIN / "python", "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    if _run(*pip, "--upgrade", "pip") or _run(*pip, "-e", ".[test]"):
        sys.exit("installation failed (see the pip output above)")
    STAMP.write_text(wanted)


def demo(args: list[str]) -> int:
    return _run(BIN / "cityops", "demo", *args)


def test(args: list[str]) -> int:
    for step in ([BIN / "ruff", "check", "src", "tests", "bench", "tools", "dev.py"], [BIN / "mypy"]):
        print("$", " ".join(str(s) for s in step), flush=True)
        if code := _run(*step):
            return code
    return _run(BIN / "python", "-m", "pytest", *args)


def main() -> None:
    commands = {"demo": demo, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    ensure_environment()
    sys.exit(commands[sys.argv[1]](sys.argv[2:]))


if __name__ == "__main__":
    main()
