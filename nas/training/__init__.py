"""The training engine: one loop (loop), its schedules, optimisers, EMA, recipes and runs."""
