"""The HTTP interface: REST API and webhook receivers over services/."""
