"""Valuation: every leg gets a value in the tax currency, with a problem wherever none can be found."""
