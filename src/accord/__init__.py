"""Accord: keeps the systems of the lead-to-cash process in agreement."""

__version__ = "0.1.0"
