"""The ledger: raw records normalized into transactions with signed legs, and transfers matched.

It is a pure, re-runnable function of the raw records: when a parser improves, re-normalize; never re-download.
"""
