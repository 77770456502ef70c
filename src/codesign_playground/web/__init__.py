"""The dashboard: static HTML/JS served by the service at ``/``; it uses only the HTTP API."""
