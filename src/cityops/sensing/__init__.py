"""Sensing 物联感知: devices, telemetry ingestion, readings, rollups, offline detection."""
