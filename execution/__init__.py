"""Decisions and order orchestration. Talks to LEAN only through execution/ports.py."""
