"""Kraken ledgers export (rows of one trade grouped by refid) and trades export."""

from __future__ import annotations

from collections.abc import Sequence

from importer.files.base import FileFormat, Line

_LAYOUT = "time like 2024-03-01 14:25:00.1234 (UTC), amounts like 0.0015 or -12.5"


def group_by_refid(lines: Sequence[Line]) -> list[list[Line]]:
    """Rows sharing a refid in file order (a trade's two sides; a movement's pending and booked copies)."""
    groups: dict[str, list[Line]] = {}
    records: list[list[Line]] = []
    for line in lines:
        refid = line[1].get("refid", "").strip()
        if not refid:
            records.append([line])
            continue
        if refid not in groups:
            groups[refid] = []
            records.append(groups[refid])
        groups[refid].append(line)
    return records


KRAKEN_LEDGERS = FileFormat(
    name="kraken-ledgers",
    title="Kraken ledgers",
    required=("txid", "refid", "time", "type", "asset", "amount", "fee"),
    optional=("subtype", "aclass", "subclass", "wallet", "balance"),
    exchange="kraken",
    numbers=("amount", "fee", "balance"),
    group=group_by_refid,
    layout=f"header txid,refid,time,type,subtype,aclass,asset,wallet,amount,fee,balance; {_LAYOUT}",
    variants=("txid,refid,time,type,subtype,aclass,asset,amount,fee,balance",
              "txid,refid,time,type,subtype,aclass,asset,wallet,amount,fee,balance",
              "txid,refid,time,type,subtype,aclass,subclass,asset,wallet,amount,fee,balance"),
)

KRAKEN_TRADES = FileFormat(
    name="kraken-trades",
    title="Kraken trades",
    required=("txid", "pair", "time", "type", "cost", "fee", "vol"),
    optional=("ordertxid", "ordertype", "price", "margin", "misc", "ledgers", "postxid", "posstatus", "cprice",
              "ccost", "cfee", "cvol", "cmargin", "net", "trades", "aclass", "leverage", "costusd"),
    exchange="kraken",
    numbers=("price", "cost", "fee", "vol", "margin"),
    layout=f"header txid,ordertxid,pair,time,type,ordertype,price,cost,fee,vol,margin,misc,ledgers; {_LAYOUT}",
    variants=("txid,ordertxid,pair,time,type,ordertype,price,cost,fee,vol,margin,misc,ledgers",
              "txid,ordertxid,pair,time,type,ordertype,price,cost,fee,vol,margin,misc,ledgers,postxid,posstatus,"
              "cprice,ccost,cfee,cvol,cmargin,net,trades",
              "txid,ordertxid,pair,aclass,time,type,ordertype,price,cost,fee,vol,margin,misc,ledgers,costusd"),
)
