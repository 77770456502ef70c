"""codesign-playground: profile networks, model accelerators, explore the joint design space."""

from __future__ import annotations

from codesign_playground.errors import CodesignError

__version__ = "0.1.0"

__all__ = ["CodesignError", "__version__"]
