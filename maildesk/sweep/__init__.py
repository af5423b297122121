"""Periodic work: re-queue what a crash left unfinished; the SLA and auto-close sweep."""
