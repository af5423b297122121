"""The wiring of one process: settings → store, notifier, sender, pipeline desk; and the queue."""
