"""The ASGI entry point: ``uvicorn codesign_playground.server:app`` (or gunicorn with
``-k uvicorn.workers.UvicornWorker``). Settings come from the environment (see ``config``)."""

from __future__ import annotations

from codesign_playground.service.main import create_app

__all__ = ["app"]

app = create_app()
