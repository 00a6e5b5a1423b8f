"""`taxsync import-file`: the format list, the default account, the summary line and the refusal exit code."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from importer.files import FORMATS

EXPORTS = Path(__file__).parent.parent / "fixtures" / "exports"


def test_list_formats_names_every_format_and_header_variant(cli: Callable[..., object]) -> None:
    output = " ".join(cli("import-file", "--list-formats").output.split())  # type: ignore[attr-defined]
    for fmt in FORMATS.values():
        assert f"{fmt.name}: {fmt.title}" in output
        assert all(" ".join(variant.split()) in output for variant in fmt.variants)


def test_import_without_account_names_the_accounts_it_filled(cli: Callable[..., object], home: Path) -> None:
    cli("init", "--home", home)
    result = cli("import-file", EXPORTS / "kraken-ledgers.csv", EXPORTS / "binance-history.csv", "--home", home)
    output = " ".join(result.output.split())  # type: ignore[attr-defined]
    assert "Imported 2 file(s) into 'binance', 'kraken'" in output
    problems = cli("problems", "--json", "--home", home).output  # type: ignore[attr-defined]
    assert "Launchpad Subscribe" in problems and "USDT-Futures" in problems


def test_no_file_is_a_usage_error(cli: Callable[..., object], home: Path) -> None:
    cli("init", "--home", home)
    assert "no file to import" in cli("import-file", "--home", home, code=2).output  # type: ignore[attr-defined]
