"""Model family (being written)."""
