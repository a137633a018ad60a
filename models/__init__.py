"""Plain data and pure rules. Standard library only: no I/O, no LEAN."""
