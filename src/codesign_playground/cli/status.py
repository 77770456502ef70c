"""Exit codes of the ``codesign`` command."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["CommandFailed", "ExitStatus"]


class ExitStatus(IntEnum):
    """What a ``codesign`` run ended with; scripts can rely on these numbers."""

    SUCCESS = 0
    ERROR = 1  # an unexpected failure (a bug): run again with --traceback and report it
    BAD_INPUT = 2  # the input was wrong: the message names the field and the fix
    INTERRUPTED = 130  # Ctrl-C


class CommandFailed(Exception):
    """A command ran and its check failed (e.g. simulated cycles differ from the model):
    the error boundary prints the message and exits with ``status``."""

    def __init__(self, message: str, status: ExitStatus = ExitStatus.ERROR) -> None:
        super().__init__(message)
        self.status = status
