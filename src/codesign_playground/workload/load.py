"""One entry point that turns a model reference (a file or a zoo name) into a Network."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from codesign_playground.errors import InputError, ModelFormatError, ModelNotFoundError
from codesign_playground.workload.ir import Network, Precision

__all__ = ["MODEL_SUFFIXES", "load_workload", "parse_dims"]

#: File suffixes read as models, and the importer each selects.
MODEL_SUFFIXES = {
    ".onnx": "onnx",
    ".csv": "scalesim",
    ".pt2": "torch",
    ".yaml": "yaml",
    ".yml": "yaml",
}


def parse_dims(values: Sequence[str] | None, field: str = "--dim") -> dict[str, int]:
    """``NAME=SIZE`` bindings of symbolic ONNX dimensions (``--dim seq=128``) as a dict;
    ``field`` names the option or form field in the error."""
    out: dict[str, int] = {}
    for item in values or []:
        name, sep, size = item.partition("=")
        name, size = name.strip(), size.strip()
        if not sep or not name or not size.isdigit() or int(size) < 1:
            raise InputError(
                f"{field}: expected NAME=SIZE with SIZE >= 1, e.g. seq=128 (got {item!r})"
            )
        out[name] = int(size)
    return out


def _looks_like_path(ref: str) -> bool:
    return "/" in ref or "\\" in ref or Path(ref).suffix.lower() in MODEL_SUFFIXES


def kind_of(path: Path) -> str | None:
    """The importer a file's suffix selects (``onnx``, ``scalesim``, ``torch``), or None."""
    return MODEL_SUFFIXES.get(path.suffix.lower())


def load_workload(
    model: str | Path,
    *,
    batch: int = 1,
    precision: Precision | None = None,
    dims: Mapping[str, int] | None = None,
    resolution: int | None = None,
    seq_len: int | None = None,
    kv_len: int | None = None,
    width: float | None = None,
    allow_unresolved: bool = False,
) -> Network:
    """Load ``model``: an ONNX file, a SCALE-Sim topology CSV, a ``torch.export`` ``.pt2``
    archive, or the name of a built-in zoo model (with its knobs).

    ``dims`` binds named symbolic input dimensions of an ONNX file. An op that computes but
    whose shape cannot be resolved is an :class:`~codesign_playground.errors.UnresolvedShapeError`
    unless ``allow_unresolved`` (then the network lists it and its totals say how much is
    missing)."""
    if batch < 1:
        raise InputError(f"batch: must be >= 1 (got {batch})")
    ref = str(model)
    path = Path(ref)
    if path.exists() or _looks_like_path(ref):
        if dims and kind_of(path) not in (None, "onnx"):
            raise InputError("dims: --dim binds symbolic inputs of ONNX files only")
        if any(v is not None for v in (resolution, seq_len, kv_len, width)):
            raise InputError(
                "model: --resolution, --seq-len, --kv-len and --width apply to zoo models only; "
                "a file's shapes come from the file (use --batch or --dim)"
            )
        if not path.exists():
            raise ModelNotFoundError(f"model: file not found: {ref}")
        if path.is_dir():
            raise ModelFormatError(f"model: {ref} is a directory, not a model file")
        kind = MODEL_SUFFIXES.get(path.suffix.lower())
        if kind == "scalesim":
            from codesign_playground.workload.importers.scalesim_csv import (
                network_from_scalesim_csv,
            )

            return network_from_scalesim_csv(path, precision=precision or "int8", batch=batch)
        if kind == "yaml":
            from codesign_playground.workload.importers.yaml_workloads import network_from_yaml

            if batch != 1 or dims:
                raise InputError(
                    "model: --batch and --dim do not apply to ZigZag/Timeloop YAML workloads; "
                    "their loop sizes come from the file"
                )
            return network_from_yaml(path, precision=precision)
        if kind == "torch":
            from codesign_playground.workload.importers.torch_export import network_from_pt2

            return network_from_pt2(path, precision=precision, allow_unresolved=allow_unresolved)
        from codesign_playground.workload.importers.onnx_graph import network_from_onnx

        return network_from_onnx(
            path, batch=batch, dims=dims, precision=precision, allow_unresolved=allow_unresolved
        )
    if dims:
        raise InputError("dims: --dim binds symbolic inputs of ONNX files only")
    from codesign_playground.workload.zoo import build_zoo_model

    return build_zoo_model(
        ref,
        batch=batch,
        precision=precision or "fp32",
        resolution=resolution,
        seq_len=seq_len,
        kv_len=kv_len,
        width=1.0 if width is None else width,
    )
