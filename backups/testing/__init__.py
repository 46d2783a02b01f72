"""Infrastructure for the tests, the scripts and the bench (no Django settings needed to import it)."""
