"""The package's public surface is exactly the curated ``__all__``."""

from __future__ import annotations

import doctest

import codesign_playground

EXPECTED = {
    "CodesignError",
    "Estimate",
    "HardwareSpec",
    "HardwareSpecError",
    "InputError",
    "ModelFormatError",
    "ModelNotFoundError",
    "Network",
    "Op",
    "UnsupportedError",
    "__version__",
    "estimate",
    "estimate_mapped",
    "get_chip",
    "list_catalog",
    "load_hardware",
    "load_workload",
    "profile",
    "read_foreign_hardware",
    "spatial",
    "systolic",
}


def test_exported_members() -> None:
    assert set(codesign_playground.__all__) == EXPECTED
    for name in EXPECTED:
        assert hasattr(codesign_playground, name), name


def test_package_doctest() -> None:
    result = doctest.testmod(codesign_playground)
    assert result.attempted > 0 and result.failed == 0


def test_error_tree() -> None:
    from codesign_playground import errors

    assert issubclass(errors.ModelNotFoundError, errors.InputError)
    assert issubclass(errors.HardwareSpecError, ValueError)
    assert issubclass(errors.UnsupportedError, errors.CodesignError)
