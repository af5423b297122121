"""Parsing, classifying and composing mail; no database, broker or network."""
