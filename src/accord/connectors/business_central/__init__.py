"""Dynamics 365 Business Central (API v2.0) connector."""

from accord.connectors.business_central.connector import BusinessCentralConnector, build

__all__ = ["BusinessCentralConnector", "build"]
