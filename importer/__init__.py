"""Sources of history: exchange APIs over ccxt and exported files, stored verbatim as raw records."""
