"""`/stats/*`: read-only statistics — `inputs` (query parameters), `outputs` (the answers and
their schema) and `views`; the figures come from `ledger.selectors.stats`."""
