"""Runtime: the scheduler that runs each mapping's incremental pass on its interval."""
