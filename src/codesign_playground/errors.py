"""Errors raised by codesign-playground.

Every error the library raises on bad input is a ``CodesignError``; front ends map the
subclasses to exit codes (CLI) or problem+json responses (service) in one place each::

    CodesignError                  base: a one-line, user-facing message
    ├── InputError                 a value given by the user is wrong (names field and fix)
    │   ├── ModelNotFoundError     a model file is missing or a zoo name is unknown
    │   ├── ModelFormatError       a model file is malformed, truncated or not the format
    │   │   └── UnresolvedShapeError   an op that computes has a shape no inference resolves
    │   ├── HardwareSpecError      a hardware description is invalid
    │   └── DeviceFitError         a design needs more of a device than it has
    ├── ToolError                  an external tool (Yosys, nextpnr, a simulator) failed
    └── UnsupportedError           valid input the library cannot handle yet
"""

from __future__ import annotations

__all__ = [
    "CodesignError",
    "DeviceFitError",
    "HardwareSpecError",
    "InputError",
    "ModelFormatError",
    "ModelNotFoundError",
    "ToolError",
    "UnresolvedShapeError",
    "UnsupportedError",
]


class CodesignError(Exception):
    """Base class: the message is one line a user can act on."""


class InputError(CodesignError, ValueError):
    """A value given by the user is wrong; the message names the field and the fix."""


class ModelNotFoundError(InputError):
    """A model file does not exist, or a zoo name is not in the zoo."""


class ModelFormatError(InputError):
    """A model file cannot be read: malformed, truncated, or not of the expected format."""


class UnresolvedShapeError(ModelFormatError):
    """An op that does arithmetic has a dimension that shape inference cannot resolve.

    Counting such a graph would silently drop the op's work; the message names the node,
    the input and the unknown dimension (``allow_unresolved`` counts the rest instead).
    """


class HardwareSpecError(InputError):
    """A hardware description is invalid: the message names the field and the reason."""


class DeviceFitError(InputError):
    """A design needs more cells, RAMs or DSPs than the target device has."""


class ToolError(CodesignError):
    """An external tool failed; the message names the cause and the next step.

    ``summary`` is the failure alone (no log path, no advice) and ``log`` the tool's log
    file, for callers that word their own next step (the service's RTL jobs)."""

    def __init__(self, message: str, *, summary: str | None = None, log: str | None = None):
        super().__init__(message)
        self.summary = summary if summary is not None else message
        self.log = log


class UnsupportedError(CodesignError):
    """The input is valid but asks for something the library does not model."""
