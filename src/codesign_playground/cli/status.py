"""Exit codes of the ``codesign`` command."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["ExitStatus"]


class ExitStatus(IntEnum):
    """What a ``codesign`` run ended with; scripts can rely on these numbers."""

    SUCCESS = 0
    ERROR = 1  # an unexpected failure (a bug): run again with --traceback and report it
    BAD_INPUT = 2  # the input was wrong: the message names the field and the fix
    INTERRUPTED = 130  # Ctrl-C
