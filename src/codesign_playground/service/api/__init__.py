"""The HTTP API under ``/api/v1``: routers, one module per resource, and shared dependencies."""
