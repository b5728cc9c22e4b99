"""What every stage shares: typed records, the one validated config, errors, the registry, vector helpers."""
