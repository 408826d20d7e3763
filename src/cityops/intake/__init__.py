"""Multi-channel intake: reports from the hotline, grid patrol, portal, Open311, video AI, sensors and
department systems; photo checks; the Open311 GeoReport v2 endpoints."""
