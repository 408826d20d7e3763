"""The demo city: Zibo (淄博市), with real districts and streets and generated communities and grids."""
