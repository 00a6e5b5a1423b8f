"""taxsync: crypto exchange history in, an accountant-ready tax report out.

The pipeline flows one way: ``importer`` (sources) -> ``taxsync.ledger`` (normalize) ->
``taxsync.prices`` (value) -> ``taxsync.tax`` (pure engine) -> ``reports`` (writers).
"""

__version__ = "0.1.0"
