"""A non-editable install finds its templates, bundled data and migrations.

Builds the wheel, installs it with pip into a target folder and runs the demo path from there, with the
source checkout out of the way.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(out), str(ROOT)], check=True, capture_output=True)
    (path,) = out.glob("taxsync-*.whl")
    return path


def test_wheel_carries_templates_data_and_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("taxsync/_templates/report.html.j2", "taxsync/_templates/report.css",
                   "taxsync/_data/sample/coinbase.csv", "taxsync/db/migrations/env.py",
                   "taxsync/db/migrations/versions/0001_initial.py", "importer/files/koinly.py",
                   "reports/pdf_writer.py"):
        assert needed in names, needed
    assert not [n for n in names if n.startswith("reports/taxsync-")]
    assert any(n.endswith("entry_points.txt") for n in names)


def test_installed_wheel_runs_the_demo_path(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target",
                    str(site), str(wheel)], check=True, capture_output=True)
    script = (
        "import sys, taxsync, taxsync.resources as r; from taxsync.cli import app\n"
        f"assert taxsync.__file__.startswith({str(site)!r}), taxsync.__file__\n"
        f"assert str(r.templates_dir()).startswith({str(site)!r})\n"
        "sample = r.data_dir() / 'sample'\n"
        "for args in (['init', '--home', 'ws'], ['import-file', str(sample / 'coinbase.csv'), '--account', 'c',"
        " '--home', 'ws'], ['report', '--year', '2024', '--home', 'ws', '--out', 'out']):\n"
        "    try:\n        app(args)\n    except SystemExit as e:\n        assert not e.code, (args, e.code)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, check=True, capture_output=True)
    assert (tmp_path / "out" / "taxsync-us-2024-fifo.pdf").read_bytes().startswith(b"%PDF")
