"""Dataverse Web API (Dynamics 365 Sales) sandbox."""
