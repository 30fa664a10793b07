"""nas: HOW to search — objective, strategies, evaluators, runners and the trial ledger."""
