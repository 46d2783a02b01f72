"""A typical DRF implementation of the list and count, for comparison only: never deployed."""
