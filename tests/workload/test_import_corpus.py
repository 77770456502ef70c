"""Transformer and vision corpus: every importer counts exactly the MACs torch runs.

Each model of :mod:`corpus` (HuggingFace BERT, DistilBERT, GPT-2, Llama, T5 encoder, ViT,
Whisper encoder from configs with random weights; ResNet, MobileNetV2 and a ResNet-FPN
detection backbone in ``torch.nn``) is exported by the TorchScript-based and the
dynamo-based ``torch.onnx.export`` and imported, and also imported through
``torch.export``; each network's MACs equal ``torch.utils.flop_counter.FlopCounterMode``
on the same module (FLOPs / 2), attention included. The exporters compute shapes at run
time (Shape, Gather, Concat, Expand, Where, Reshape with computed targets), so this is
also the test that every such shape is resolved.
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("onnxscript")  # the dynamo-based exporter writes through onnxscript

import onnx  # noqa: E402
from tests.workload import corpus  # noqa: E402

from codesign_playground.errors import UnresolvedShapeError  # noqa: E402
from codesign_playground.workload import load_workload  # noqa: E402
from codesign_playground.workload.importers.onnx_graph import network_from_onnx  # noqa: E402
from codesign_playground.workload.importers.torch_export import network_from_torch  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.slow]

MODELS = list(corpus.CORPUS)


@functools.cache
def _model(name: str) -> tuple[Any, tuple[Any, ...], int]:
    module, inputs = corpus.build(name)
    return module, inputs, corpus.reference_macs(module, inputs)


def _export(module: Any, inputs: tuple[Any, ...], path: Path, *, dynamo: bool, opset: int) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            inputs,
            str(path),
            opset_version=opset,
            dynamo=dynamo,
            external_data=False,
            verbose=False,
        )
    return path


@pytest.mark.parametrize("exporter", ["torchscript", "dynamo"])
@pytest.mark.parametrize("name", MODELS)
def test_onnx_export_macs_equal_flop_counter(name: str, exporter: str, tmp_path: Path) -> None:
    module, inputs, ref = _model(name)
    dynamo = exporter == "dynamo"
    path = _export(
        module, inputs, tmp_path / f"{name}.onnx", dynamo=dynamo, opset=18 if dynamo else 17
    )
    net = network_from_onnx(path)
    assert net.macs == ref, f"{name} via {exporter}: {net.macs} MACs, flop counter {ref}"
    assert not net.unresolved
    # every op that does matrix work was sized; nothing with MACs is hiding in unmodeled
    assert not [u for u in net.unmodeled if u.op_type in ("MatMul", "Gemm", "Conv", "Einsum")]


@pytest.mark.parametrize("name", MODELS)
def test_torch_export_macs_equal_flop_counter(name: str) -> None:
    module, inputs, ref = _model(name)
    net = network_from_torch(module, inputs)
    assert net.macs == ref, f"{name} via torch.export: {net.macs} MACs, flop counter {ref}"
    assert not net.unresolved


@pytest.mark.parametrize(
    ("exporter", "opset"),
    [("torchscript", v) for v in range(13, 22)] + [("dynamo", v) for v in (17, 18, 21)],
)
def test_opsets_13_to_21(exporter: str, opset: int, tmp_path: Path) -> None:
    """BERT at every opset the exporters write (TorchScript has no SDPA before opset 14:
    there the model runs its eager attention, the same matmuls)."""
    module, inputs, ref = _model("bert")
    if exporter == "torchscript" and opset < 14:
        module, inputs = corpus.build("bert")
        module.model.config._attn_implementation = "eager"
    path = _export(module, inputs, tmp_path / "bert.onnx", dynamo=exporter == "dynamo", opset=opset)
    written = next(
        i.version for i in onnx.load(str(path)).opset_import if i.domain in ("", "ai.onnx")
    )
    assert written == opset
    assert network_from_onnx(path).macs == ref


@pytest.mark.parametrize("exporter", ["torchscript", "dynamo"])
@pytest.mark.parametrize("name", ["distilbert", "llama"])
def test_symbolic_export_binds_dims(name: str, exporter: str, tmp_path: Path) -> None:
    """Graphs exported with symbolic batch and sequence axes: --batch and --dim size them."""
    module, inputs, ref = _model(name)
    path = tmp_path / f"{name}_dynamic.onnx"
    axes = {0: "batch", 1: "sequence"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if exporter == "dynamo":
            torch.onnx.export(
                module,
                inputs,
                str(path),
                opset_version=18,
                dynamo=True,
                input_names=["input_ids"],
                dynamic_shapes=(axes,),
            )
        else:
            torch.onnx.export(
                module,
                inputs,
                str(path),
                opset_version=17,
                dynamo=False,
                input_names=["input_ids"],
                dynamic_axes={"input_ids": axes},
            )
    assert network_from_onnx(path, dims={"sequence": corpus.SEQ}).macs == ref
    longer = (torch.randint(0, 100, (2, 24)),)
    assert network_from_onnx(path, batch=2, dims={"sequence": 24}).macs == (
        corpus.reference_macs(module, longer)
    )


def test_graph_without_weights(tmp_path: Path) -> None:
    """The issue's case: exported without weights (``export_params=False`` makes every
    parameter a graph input) still imports with every MatMul counted, the parameters
    recognised as weights (they keep their shapes under --batch)."""
    module, inputs, ref = _model("bert")
    path = tmp_path / "bert_noweights.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            inputs,
            str(path),
            opset_version=17,
            dynamo=False,
            export_params=False,
            input_names=["input_ids"],
        )
    net = load_workload(path)
    assert net.macs == ref
    assert [t.name for t in net.inputs] == ["input_ids"]
    assert len(net.by_kind("gemm")) == 12  # 2 layers x (q, k, v, out, up, down)
    # parameters the exporter shares through Identity nodes (equal at initialisation)
    # count as the separate parameters the module has
    assert net.params == sum(p.numel() for p in module.parameters())
    # a batch the export baked into its shapes cannot be changed: an error that says so
    with pytest.raises(UnresolvedShapeError, match="fixed batch of 1"):
        load_workload(path, batch=4)


def test_external_weights_not_shipped(tmp_path: Path) -> None:
    """Exported with weights in an external file that is not shipped: counted the same."""
    module, inputs, ref = _model("gpt2")
    path = tmp_path / "gpt2.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module, inputs, str(path), opset_version=18, dynamo=True, external_data=True
        )
    for data in tmp_path.glob("gpt2.onnx.data"):
        data.unlink()
    # (parameter counts are not compared: the dynamo exporter's optimizer merges equal
    # initializers and folds the position-embedding lookup at constant rows)
    assert load_workload(path).macs == ref
