"""The normalized ledger of an export file as text an accountant can check line by line (golden files)."""

from __future__ import annotations

import json
from pathlib import Path

from importer.files import FORMATS, read_file
from taxsync.ledger.sources import NORMALIZERS
from taxsync.types import to_datetime


def ledger_text(path: Path) -> str:
    """One block per record: where it comes from, then its transaction (or none) and its problems."""
    read = read_file(path, FORMATS)
    out = [f"# {path.name}: {read.format.name}"]
    for row in read.rows:
        result = NORMALIZERS[read.format.name](json.loads(row.payload), "acct", f"{path.name}:{row.line}")
        tx = result.transaction
        if tx is None:
            out.append(f"{path.name}:{row.line}  (no transaction)")
        else:
            when = to_datetime(tx.timestamp).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
            kind = tx.kind.value + (f"/{tx.subkind}" if tx.subkind else "")
            extra = "".join(f"  {name}={value}" for name, value in (
                ("id", tx.exchange_id), ("quote", f"{tx.quote.amount} {tx.quote.currency}" if tx.quote else ""),
                ("hash", tx.txhash)) if value)
            out.append(f"{path.name}:{row.line}  {when}  {kind}{extra}")
            out += [f"    {leg.role.value:<4} {leg.amount:>+20} {leg.asset}" for leg in tx.legs]
        out += [f"    ! {p.severity.value} {p.kind.value}: {p.message}" for p in result.problems]
    return "\n".join(out) + "\n"
