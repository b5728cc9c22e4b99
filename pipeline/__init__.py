"""Survey free-text themes pipeline."""
