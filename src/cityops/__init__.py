"""CityOps: city operations, data hub and one-stop services platform."""

__version__ = "0.1.0"
