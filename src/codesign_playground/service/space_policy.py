"""What an API client may put in a design-space document: names, never server paths.

The CLI's documents name files (a local user's own); a client of the server must not reach the
server's file system. ``model.name`` must be a zoo model (or ``digits_cnn``; an uploaded model
goes by ``model_id``), ``accuracy.csv`` and ``accuracy.cache`` are refused (send the rows as
``accuracy.table``; the digits cache lives in the job's work folder). The checks look only at
the strings, so the answer never depends on what exists on the server (no existence oracle).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from codesign_playground.errors import InputError, ModelNotFoundError

__all__ = ["STORED_MODEL_NAME", "server_space"]

STORED_MODEL_NAME = "stored-model.onnx"
"""``model.name`` while an uploaded model's file is not yet written (the worker replaces it)."""


def _zoo_name(name: str) -> str:
    from codesign_playground.explore.variants import DIGITS_CNN
    from codesign_playground.workload.zoo import zoo_entry

    if name == DIGITS_CNN:
        return name
    try:
        return zoo_entry(name).name
    except ModelNotFoundError:
        raise InputError(
            f"space.model.name: {name[:80]!r} is not a zoo model; the API takes a zoo model "
            "name (GET /api/v1/models/zoo) or an uploaded model's model_id, never a file path"
        ) from None


def server_space(document: Mapping[str, Any], *, model_id: str | None) -> dict[str, Any]:
    """``document`` with ``model.name`` made a zoo name (or the uploaded-model placeholder);
    :class:`InputError` naming the field for any client-supplied path."""
    out = dict(document)
    model = out.get("model")
    if isinstance(model, Mapping):
        model = dict(model)
        if model_id is not None:
            model["name"] = STORED_MODEL_NAME
        elif isinstance(model.get("name"), str):
            model["name"] = _zoo_name(model["name"])
        out["model"] = model
    accuracy = out.get("accuracy")
    if isinstance(accuracy, Mapping):
        if accuracy.get("csv") is not None:
            raise InputError(
                "space.accuracy.csv: the API takes no file paths; send the rows as "
                "space.accuracy.table (CodesignClient.start_exploration(accuracy_csv=...) reads "
                "a local CSV into it)"
            )
        if accuracy.get("cache") is not None:
            raise InputError(
                "space.accuracy.cache: the API takes no file paths; the server keeps the digits "
                "accuracy cache in the job's own work folder (leave cache out)"
            )
    return out
