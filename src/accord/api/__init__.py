"""The REST API (FastAPI): a thin layer over ``services/``, authenticated by API tokens."""
