"""What the CLI offers an admin, each operation one transaction, values out."""
