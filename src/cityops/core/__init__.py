"""Shared building blocks: settings, storage, errors, clock, bus, security."""
