"""Dataverse Web API (Dynamics 365 Sales) connector."""

from accord.connectors.dataverse.connector import DataverseConnector, build

__all__ = ["DataverseConnector", "build"]
