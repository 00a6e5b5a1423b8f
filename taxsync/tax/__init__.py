"""The pure tax core: ``compute(events, rules) -> TaxResult``. It imports no other taxsync stage."""
