"""Departments, staff, citizens, roles, region scopes and API keys."""
