"""The house's floors (docs/architecture.md) and a start-up that loads nothing heavy.

The import contracts in pyproject.toml (``[tool.importlinter]``) say that every import points to a lower
floor, that the tax engine touches no database, network or data frame, and that no report can reach an
exchange. ``make lint`` checks them too; here they fail the suite.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("ccxt", "pandas", "weasyprint", "numpy", "sqlalchemy", "alembic")


def test_every_import_points_to_a_lower_floor() -> None:
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nimport json\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("code", [
    "import taxsync.cli",
    "from taxsync.cli.main import app; import typer.main; typer.main.get_command(app)",
])
def test_the_command_line_loads_nothing_heavy(code: str) -> None:
    loaded = _loaded_after(code)
    heavy = sorted({name.split(".")[0] for name in loaded if name.split(".")[0] in HEAVY})
    assert heavy == [], f"`{code}` imports {heavy}: import them inside the command that needs them"
    assert not [name for name in loaded if name.startswith(("taxsync.app", "taxsync.ops", "importer", "reports."))]


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["report", "--help"], ["account", "add", "--help"],
                                  ["prices", "sync", "--help"]])
def test_version_and_help_answer_without_heavy_imports(argv: list[str]) -> None:
    probe = ("import sys, runpy\nsys.argv = ['taxsync', *sys.argv[1:]]\n"
             "try:\n    runpy.run_module('taxsync', run_name='__main__')\nexcept SystemExit:\n    pass\n"
             f"print('LOADED', sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))")
    result = subprocess.run([sys.executable, "-c", probe, *argv], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert "LOADED []" in result.stdout, result.stdout[-2000:] + result.stderr[-2000:]


def test_the_command_lists_name_every_writer_and_exporter() -> None:
    from reports import WRITERS
    from reports.exports import EXPORTERS
    from taxsync.cli.reports import EXPORT_FORMATS, REPORT_FORMATS

    assert set(REPORT_FORMATS) == set(WRITERS)
    assert set(EXPORT_FORMATS) == set(EXPORTERS)


def test_a_report_is_written_without_loading_ccxt(tmp_path: Path) -> None:
    probe = f"""
import sys
from pathlib import Path
from taxsync.app.file_import import import_files
from taxsync.app.report import build_report
from taxsync.app.views import holdings, problems
from taxsync.app.workspace import init_workspace
from taxsync.resources import data_dir
ws = init_workspace(Path({str(tmp_path / "ws")!r}), jurisdiction="us")
import_files(ws, [data_dir() / "sample" / "coinbase.csv"], account="coinbase")
holdings(ws), problems(ws)
build_report(ws, year="2024", formats=("json", "csv"), out=Path({str(tmp_path / "out")!r}))
print("LOADED", sorted(m for m in ("ccxt", "importer.adapters", "importer.sync") if m in sys.modules))
"""
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "LOADED []" in result.stdout, result.stdout[-2000:] + result.stderr[-2000:]
