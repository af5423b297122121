"""Who gets which notice, rendered from templates into drafts (no database, no network)."""
