"""Regions: city → district → street → community → grid, their polygons, and point → grid lookup (网格)."""
