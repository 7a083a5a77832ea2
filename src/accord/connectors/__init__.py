"""Connectors: one package per connected system, all behind :mod:`accord.connectors.base`."""
