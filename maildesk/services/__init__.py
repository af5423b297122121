"""Operations the CLI offers on tickets and agents, each one transaction."""
