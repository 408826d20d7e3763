"""Append-only, hash-chained log of every state change and every data access."""
