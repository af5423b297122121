"""Long-running processes: the serve daemon, its pipeline child, the worker pool; logging setup."""
