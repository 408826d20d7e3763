"""Notifications to people and systems (deadline warnings, escalations) behind one small interface."""
