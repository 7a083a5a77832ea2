"""OData v4 client pieces shared by the Microsoft connectors."""
