"""The built-in model zoo: well-known networks built in code, nothing downloaded.

Each model follows its reference definition (torchvision for the vision models,
HuggingFace ``transformers`` for the language models) op for op, through the same op
constructors as the importers, so a zoo model and an export of the same network profile
the same. :func:`list_zoo` describes the models, their knobs and the published figures
they reproduce; :func:`build_zoo_model` builds one::

    net = build_zoo_model("resnet-50", batch=8, resolution=256)
    net = build_zoo_model("llama_decode", kv_len=4096, precision="fp16")

Knobs: ``batch`` (all models), ``resolution`` (vision models: image side in pixels),
``seq_len`` (BERT, GPT-2, Llama prefill: tokens), ``kv_len`` (Llama decode: tokens already
in the KV cache), ``width`` (MobileNetV2 and EfficientNet-B0: width multiplier) and
``precision``. A knob a model does not take is an error, not silently ignored.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from codesign_playground.errors import InputError, ModelNotFoundError
from codesign_playground.workload.ir import Network, Precision, parse_precision
from codesign_playground.workload.zoo._bert import MAX_POSITIONS as _BERT_MAX
from codesign_playground.workload.zoo._bert import build_bert_base
from codesign_playground.workload.zoo._efficientnet import build_efficientnet_b0
from codesign_playground.workload.zoo._gpt2 import MAX_POSITIONS as _GPT2_MAX
from codesign_playground.workload.zoo._gpt2 import build_gpt2
from codesign_playground.workload.zoo._llama import LLAMA2_7B, LlamaConfig, build_llama
from codesign_playground.workload.zoo._mobilenet import build_mobilenet_v2, make_divisible
from codesign_playground.workload.zoo._resnet import build_resnet
from codesign_playground.workload.zoo._vgg import build_vgg16
from codesign_playground.workload.zoo._vit import build_vit_b_16

__all__ = [
    "LLAMA2_7B",
    "LlamaConfig",
    "ReferenceFigure",
    "ZooEntry",
    "build_zoo_model",
    "list_zoo",
    "make_divisible",
    "zoo_entry",
]

Knob = Literal["batch", "resolution", "seq_len", "kv_len", "width", "precision"]
KnobValue = int | float | str


@dataclass(frozen=True, slots=True)
class ReferenceFigure:
    """A published figure a zoo model reproduces at its default knobs.

    ``quantity`` is ``"params"`` (learned parameters) or ``"macs"`` (multiply-accumulates
    of conv, gemm, matmul and attention ops, batch 1). ``value`` is the figure in units;
    ``tolerance`` is 0 where the published figure is exact, otherwise half a unit of its
    last published digit. ``source`` says where it is published.
    """

    quantity: Literal["params", "macs"]
    value: int
    source: str
    tolerance: int = 0

    @property
    def exact(self) -> bool:
        return self.tolerance == 0

    def matches(self, computed: int) -> bool:
        return abs(computed - self.value) <= self.tolerance


@dataclass(frozen=True, slots=True)
class ZooEntry:
    """One zoo model: its name, what it is, the knobs it takes (with their defaults) and
    the published figures it reproduces at those defaults."""

    name: str
    family: str
    description: str
    knobs: Mapping[str, KnobValue]
    references: tuple[ReferenceFigure, ...]
    aliases: tuple[str, ...] = ()
    limits: Mapping[str, tuple[int, int | None]] = field(default_factory=dict)

    def reference(self, quantity: Literal["params", "macs"]) -> ReferenceFigure | None:
        """The published figure for ``quantity``, if there is one."""
        for r in self.references:
            if r.quantity == quantity:
                return r
        return None


_TV = "torchvision.models.{w}.IMAGENET1K_V1.meta (torchvision model docs)"


def _tv(
    weights: str, params: int, gmacs: str, exact_macs: int | None = None
) -> tuple[ReferenceFigure, ...]:
    """torchvision's ``num_params`` and ``_ops`` (published as GFLOPS, counting MACs)."""
    src = _TV.format(w=weights)
    digits = len(gmacs.split(".")[1])
    macs = ReferenceFigure(
        "macs",
        round(float(gmacs) * 1e9),
        f"{src}: _ops = {gmacs} (GFLOPS column, = GMACs)",
        tolerance=5 * 10 ** (8 - digits),
    )
    if exact_macs is not None:
        macs = ReferenceFigure(
            "macs",
            exact_macs,
            f"{src}: _ops = {gmacs}; exact count = half of torch.utils.flop_counter FLOPs "
            "of torchvision's model at batch 1 (reference.json of the shared ONNX exports)",
        )
    return (ReferenceFigure("params", params, f"{src}: num_params"), macs)


_CNN_KNOBS: Mapping[str, KnobValue] = {"batch": 1, "resolution": 224, "precision": "fp32"}
_WIDTH_KNOBS: Mapping[str, KnobValue] = {**_CNN_KNOBS, "width": 1.0}

_ENTRIES: tuple[ZooEntry, ...] = (
    ZooEntry(
        "resnet18",
        "resnet",
        "ResNet-18 (He et al. 2016), torchvision definition: BasicBlocks, BN after every "
        "bias-free conv, ImageNet 1000 classes",
        _CNN_KNOBS,
        _tv("ResNet18_Weights", 11_689_512, "1.814", exact_macs=1_814_073_344),
        aliases=("resnet-18", "resnet_18"),
        limits={"resolution": (32, None)},
    ),
    ZooEntry(
        "resnet50",
        "resnet",
        "ResNet-50 v1.5 (stride on the 3x3 conv), torchvision definition: Bottlenecks, BN "
        "after every bias-free conv",
        _CNN_KNOBS,
        _tv("ResNet50_Weights", 25_557_032, "4.089"),
        aliases=("resnet-50", "resnet_50"),
        limits={"resolution": (32, None)},
    ),
    ZooEntry(
        "mobilenet_v2",
        "mobilenet",
        "MobileNetV2 (Sandler et al. 2018), torchvision definition: inverted residuals, "
        "ReLU6, _make_divisible channel rounding under the width multiplier",
        _WIDTH_KNOBS,
        _tv("MobileNet_V2_Weights", 3_504_872, "0.301", exact_macs=300_774_272),
        aliases=("mobilenet-v2", "mobilenetv2", "mobilenet"),
        limits={"resolution": (32, None)},
    ),
    ZooEntry(
        "vgg16",
        "vgg",
        "VGG-16 (Simonyan & Zisserman 2015, configuration D), torchvision definition "
        "without batch norm",
        _CNN_KNOBS,
        _tv("VGG16_Weights", 138_357_544, "15.47"),
        aliases=("vgg-16", "vgg_16"),
        limits={"resolution": (32, None)},
    ),
    ZooEntry(
        "efficientnet_b0",
        "efficientnet",
        "EfficientNet-B0 (Tan & Le 2019), torchvision definition: MBConv with SiLU and "
        "squeeze-excitation; stochastic depth and dropout are identities at inference",
        _WIDTH_KNOBS,
        _tv("EfficientNet_B0_Weights", 5_288_548, "0.386"),
        aliases=("efficientnet-b0", "efficientnetb0", "efficientnet"),
        limits={"resolution": (32, None)},
    ),
    ZooEntry(
        "vit_b_16",
        "vit",
        "ViT-B/16 (Dosovitskiy et al. 2021), torchvision definition: 16x16 patches, class "
        "token, learned position embedding, 12 pre-LN blocks; attention expanded into ops",
        _CNN_KNOBS,
        _tv("ViT_B_16_Weights", 86_567_656, "17.564"),
        aliases=("vit-b-16", "vit-b/16", "vit_b16", "vit"),
        limits={"resolution": (16, None)},
    ),
    ZooEntry(
        "bert_base",
        "bert",
        "BERT-base uncased (Devlin et al. 2019), HuggingFace BertModel with pooler: "
        "embeddings + LayerNorm, 12 post-LN layers, hidden 768, 12 heads",
        {"batch": 1, "seq_len": 128, "precision": "fp32"},
        (
            ReferenceFigure(
                "params",
                109_482_240,
                "HuggingFace bert-base-uncased (config.json: vocab 30522, hidden 768, 12 layers, "
                "12 heads, intermediate 3072, 512 positions, 2 token types): "
                "BertModel.num_parameters() with pooler",
            ),
        ),
        aliases=("bert-base", "bert-base-uncased", "bert_base_uncased", "bert"),
        limits={"seq_len": (1, _BERT_MAX)},
    ),
    ZooEntry(
        "gpt2",
        "gpt2",
        "GPT-2 124M (Radford et al. 2019), HuggingFace GPT2LMHeadModel: 12 pre-LN blocks, "
        "hidden 768, LM head tied to the token embedding (counted once, its MACs counted)",
        {"batch": 1, "seq_len": 1024, "precision": "fp32"},
        (
            ReferenceFigure(
                "params",
                124_439_808,
                "HuggingFace gpt2 (config.json: vocab 50257, 1024 positions, n_embd 768, "
                "12 layers, 12 heads): GPT2LMHeadModel.num_parameters(), tied lm_head",
            ),
        ),
        aliases=("gpt-2", "gpt2-small", "gpt2_small", "gpt2-124m"),
        limits={"seq_len": (1, _GPT2_MAX)},
    ),
    ZooEntry(
        "llama2_7b_prefill",
        "llama",
        "Llama-2-7B-style decoder (HuggingFace LlamaForCausalLM), prefill over seq_len "
        "tokens: causal attention, K/V written to the cache, LM head on the last position",
        {"batch": 1, "seq_len": 2048, "precision": "fp32"},
        (
            ReferenceFigure(
                "params",
                6_738_415_616,
                "HuggingFace meta-llama/Llama-2-7b-hf (config.json: hidden 4096, 32 layers, "
                "32 heads, intermediate 11008, vocab 32000, untied): "
                "LlamaForCausalLM.num_parameters()",
            ),
        ),
        aliases=(
            "llama_prefill",
            "llama-prefill",
            "llama2_prefill",
            "llama2-7b-prefill",
            "llama-2-7b-prefill",
        ),
        limits={"seq_len": (1, None)},
    ),
    ZooEntry(
        "llama2_7b_decode",
        "llama",
        "Llama-2-7B-style decoder (HuggingFace LlamaForCausalLM), one decode step: 1 new "
        "token attending to kv_len cached tokens plus itself; the KV cache read is an "
        "input of the attention matmuls",
        {"batch": 1, "kv_len": 2048, "precision": "fp32"},
        (
            ReferenceFigure(
                "params",
                6_738_415_616,
                "HuggingFace meta-llama/Llama-2-7b-hf (config.json: hidden 4096, 32 layers, "
                "32 heads, intermediate 11008, vocab 32000, untied): "
                "LlamaForCausalLM.num_parameters()",
            ),
        ),
        aliases=(
            "llama_decode",
            "llama-decode",
            "llama2_decode",
            "llama2-7b-decode",
            "llama-2-7b-decode",
        ),
        limits={"kv_len": (0, None)},
    ),
)

_BUILDERS: Mapping[str, Callable[[Mapping[str, KnobValue], Precision], Network]] = {
    "resnet18": lambda k, p: build_resnet(
        18, batch=int(k["batch"]), resolution=int(k["resolution"]), precision=p
    ),
    "resnet50": lambda k, p: build_resnet(
        50, batch=int(k["batch"]), resolution=int(k["resolution"]), precision=p
    ),
    "mobilenet_v2": lambda k, p: build_mobilenet_v2(
        batch=int(k["batch"]), resolution=int(k["resolution"]), width=float(k["width"]), precision=p
    ),
    "vgg16": lambda k, p: build_vgg16(
        batch=int(k["batch"]), resolution=int(k["resolution"]), precision=p
    ),
    "efficientnet_b0": lambda k, p: build_efficientnet_b0(
        batch=int(k["batch"]), resolution=int(k["resolution"]), width=float(k["width"]), precision=p
    ),
    "vit_b_16": lambda k, p: build_vit_b_16(
        batch=int(k["batch"]), resolution=int(k["resolution"]), precision=p
    ),
    "bert_base": lambda k, p: build_bert_base(
        batch=int(k["batch"]), seq_len=int(k["seq_len"]), precision=p
    ),
    "gpt2": lambda k, p: build_gpt2(batch=int(k["batch"]), seq_len=int(k["seq_len"]), precision=p),
    "llama2_7b_prefill": lambda k, p: build_llama(
        "prefill", batch=int(k["batch"]), seq_len=int(k["seq_len"]), precision=p
    ),
    "llama2_7b_decode": lambda k, p: build_llama(
        "decode", batch=int(k["batch"]), kv_len=int(k["kv_len"]), precision=p
    ),
}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_BY_KEY: Mapping[str, ZooEntry] = {
    _key(alias): e for e in _ENTRIES for alias in (e.name, *e.aliases)
}


def list_zoo() -> list[ZooEntry]:
    """Every zoo model, in a stable order."""
    return list(_ENTRIES)


def zoo_entry(name: str) -> ZooEntry:
    """The entry for ``name`` (case-insensitive; ``-``, ``_``, ``/`` and spaces ignored,
    aliases accepted), or :class:`ModelNotFoundError` listing close matches."""
    entry = _BY_KEY.get(_key(name))
    if entry is not None:
        return entry
    key = _key(name)
    names = [e.name for e in _ENTRIES]
    close = difflib.get_close_matches(key, list(_BY_KEY), n=5, cutoff=0.6)
    if key:
        close += [k for k in _BY_KEY if key in k or k in key]
    matches = list(dict.fromkeys(_BY_KEY[k].name for k in close))
    hint = f"did you mean {', '.join(matches)}?" if matches else f"known: {', '.join(names)}"
    raise ModelNotFoundError(f"model: {name!r} is not a file or a zoo model; {hint}")


def _check_int(knob: str, value: object, low: int, high: int | None, model: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{knob}: must be an integer (got {value!r})")
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"between {low} and {high}"
        raise InputError(f"{knob}: must be {bound} for {model} (got {value})")
    return value


def build_zoo_model(
    name: str,
    *,
    batch: int = 1,
    resolution: int | None = None,
    seq_len: int | None = None,
    kv_len: int | None = None,
    width: float = 1.0,
    precision: str = "fp32",
) -> Network:
    """Build zoo model ``name`` with the given knobs (``None``: the model's default).

    Raises :class:`ModelNotFoundError` for an unknown name and :class:`InputError` naming
    the knob for a knob the model does not take or a value out of range.
    """
    entry = zoo_entry(name)
    prec = parse_precision(precision)
    given: dict[str, object] = {"resolution": resolution, "seq_len": seq_len, "kv_len": kv_len}
    if width != 1.0:
        given["width"] = width
    knobs: dict[str, KnobValue] = dict(entry.knobs)
    takes = ", ".join(k for k in entry.knobs)
    for knob, value in given.items():
        if value is None:
            continue
        if knob not in entry.knobs:
            raise InputError(f"{knob}: {entry.name} does not take {knob} (its knobs: {takes})")
    knobs["batch"] = _check_int("batch", batch, 1, None, entry.name)
    for knob in ("resolution", "seq_len", "kv_len"):
        value = given[knob]
        if value is None or knob not in entry.knobs:
            continue
        low, high = entry.limits.get(knob, (1, None))
        knobs[knob] = _check_int(knob, value, low, high, entry.name)
    if "width" in entry.knobs:
        if (
            isinstance(width, bool)
            or not isinstance(width, int | float)
            or not (0 < width < math.inf)
        ):
            raise InputError(f"width: must be a number > 0 (got {width!r})")
        knobs["width"] = float(width)
    if entry.family == "vit" and int(knobs["resolution"]) % 16:
        raise InputError(
            f"resolution: must be a multiple of the 16-pixel patch for {entry.name} "
            f"(got {knobs['resolution']})"
        )
    knobs["precision"] = prec
    return _BUILDERS[entry.name](knobs, prec)
