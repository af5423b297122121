"""One stored mail → prepare → the handler for its kind → one transaction."""
