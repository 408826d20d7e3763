"""HTTP: the JSON API, Open311, health and metrics, and the pages."""
