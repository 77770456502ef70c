"""Small models for the import corpus, built from configs with random weights (no network).

HuggingFace models come from ``transformers`` config classes at toy sizes; the vision
backbones (ResNet, MobileNetV2, a ResNet + FPN detection backbone) are written here in
``torch.nn`` after torchvision's definitions, because no torchvision wheel on PyPI
imports beside the CPU build of torch this project installs (see docs/workload.md).
Each entry is ``name -> (module, example inputs)``; the module returns plain tensors so
both ONNX exporters and ``torch.export`` take it as is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

SEQ = 16


class _Hidden(nn.Module):
    """Wrap a HuggingFace model: ids (or pixels, features) in, last hidden state out."""

    def __init__(self, model: nn.Module, arg: str, *, mask: bool = False) -> None:
        super().__init__()
        self.model = model
        self.arg = arg
        self.mask = mask  # pass an all-ones attention mask, as a serving stack does

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kwargs = {self.arg: x}
        if self.mask:
            kwargs["attention_mask"] = torch.ones_like(x)
        out = self.model(**kwargs)
        hidden: torch.Tensor = out[0]
        return hidden


def _ids(vocab: int = 100) -> tuple[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return (torch.randint(0, vocab, (1, SEQ), generator=g),)


def bert() -> tuple[nn.Module, tuple[Any, ...]]:
    from transformers import BertConfig, BertModel

    cfg = BertConfig(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    return _Hidden(BertModel(cfg, add_pooling_layer=False), "input_ids"), _ids()


def distilbert() -> tuple[nn.Module, tuple[Any, ...]]:
    from transformers import DistilBertConfig, DistilBertModel

    cfg = DistilBertConfig(
        vocab_size=100, dim=32, n_layers=2, n_heads=2, hidden_dim=64, max_position_embeddings=64
    )
    return _Hidden(DistilBertModel(cfg), "input_ids"), _ids()


def gpt2() -> tuple[nn.Module, tuple[Any, ...]]:
    from transformers import GPT2Config, GPT2Model

    cfg = GPT2Config(
        vocab_size=100, n_embd=32, n_layer=2, n_head=2, n_positions=64, use_cache=False
    )
    return _Hidden(GPT2Model(cfg), "input_ids", mask=True), _ids()


def llama() -> tuple[nn.Module, tuple[Any, ...]]:
    from transformers import LlamaConfig, LlamaModel

    cfg = LlamaConfig(
        vocab_size=100,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        use_cache=False,
    )
    # with a mask: without one, transformers looks for packed sequences with torch.diff,
    # which the TorchScript exporter cannot export
    return _Hidden(LlamaModel(cfg), "input_ids", mask=True), _ids()


def t5_encoder() -> tuple[nn.Module, tuple[Any, ...]]:
    from transformers import T5Config, T5EncoderModel

    cfg = T5Config(vocab_size=100, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4)
    # T5 adds its position bias to the scores: the eager attention path, as T5 checkpoints
    # run it (torch 2.13's dynamo exporter cannot decompose T5's sdpa path: a view of a
    # transposed tensor)
    cfg._attn_implementation = "eager"
    return _Hidden(T5EncoderModel(cfg), "input_ids"), _ids()


def vit() -> tuple[nn.Module, tuple[Any, ...]]:
    from transformers import ViTConfig, ViTModel

    cfg = ViTConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        image_size=32,
        patch_size=8,
    )
    g = torch.Generator().manual_seed(0)
    pixels = torch.randn(1, 3, 32, 32, generator=g)
    return _Hidden(ViTModel(cfg, add_pooling_layer=False), "pixel_values"), (pixels,)


def whisper_encoder() -> tuple[nn.Module, tuple[Any, ...]]:
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    cfg = WhisperConfig(
        d_model=32,
        encoder_layers=2,
        encoder_attention_heads=2,
        encoder_ffn_dim=64,
        num_mel_bins=16,
        max_source_positions=16,
        decoder_layers=1,
        decoder_attention_heads=2,
        decoder_ffn_dim=64,
        vocab_size=100,
    )
    g = torch.Generator().manual_seed(0)
    features = torch.randn(1, 16, 32, generator=g)  # (batch, mel bins, 2 x positions)
    return _Hidden(WhisperEncoder(cfg), "input_features"), (features,)


# --- vision backbones (after torchvision.models.resnet / mobilenetv2 / ops.feature_pyramid)


class _BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.down(x))


class _ResNetBody(nn.Module):
    """ResNet stem and four stages of basic blocks (torchvision's resnet18 at width 8)."""

    def __init__(self, width: int = 8) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, width, 7, 2, 3, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1),
        )
        chans = [width, 2 * width, 4 * width, 8 * width]
        stages = []
        cin = width
        for i, c in enumerate(chans):
            stride = 1 if i == 0 else 2
            stages.append(nn.Sequential(_BasicBlock(cin, c, stride), _BasicBlock(c, c, 1)))
            cin = c
        self.stages = nn.ModuleList(stages)
        self.channels = chans

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats


class _ResNet(nn.Module):
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.body = _ResNetBody()
        self.fc = nn.Linear(self.body.channels[-1], classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.body(x)[-1]
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        out: torch.Tensor = self.fc(x)
        return out


def _conv_bn_relu6(cin: int, cout: int, k: int, stride: int, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU6(inplace=True),
    )


class _InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(_conv_bn_relu6(cin, hidden, 1, 1))
        layers += [
            _conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y: torch.Tensor = self.conv(x)
        return x + y if self.residual else y


class _MobileNetV2(nn.Module):
    """torchvision's MobileNetV2 layout (t, c, n, s) at width 1/4 and 10 classes."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        settings = [(1, 4, 1, 1), (6, 6, 2, 2), (6, 8, 3, 2), (6, 16, 2, 2), (6, 24, 1, 1)]
        layers: list[nn.Module] = [_conv_bn_relu6(3, 8, 3, 2)]
        cin = 8
        for t, c, n, s in settings:
            for i in range(n):
                layers.append(_InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers.append(_conv_bn_relu6(cin, 64, 1, 1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(64, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        out: torch.Tensor = self.classifier(x)
        return out


class _ResNetFPN(nn.Module):
    """A detection backbone: ResNet body plus a feature pyramid (1x1 lateral convs,
    nearest top-down upsampling, 3x3 output convs, an extra max-pooled level), as in
    torchvision's ``resnet_fpn_backbone``."""

    def __init__(self, out_channels: int = 16) -> None:
        super().__init__()
        self.body = _ResNetBody()
        self.inner = nn.ModuleList(nn.Conv2d(c, out_channels, 1) for c in self.body.channels)
        self.layer = nn.ModuleList(
            nn.Conv2d(out_channels, out_channels, 3, padding=1) for _ in self.body.channels
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        feats = self.body(x)
        last = self.inner[-1](feats[-1])
        results = [self.layer[-1](last)]
        for i in range(len(feats) - 2, -1, -1):
            lateral = self.inner[i](feats[i])
            top_down = F.interpolate(last, size=lateral.shape[-2:], mode="nearest")
            last = lateral + top_down
            results.insert(0, self.layer[i](last))
        results.append(F.max_pool2d(results[-1], 1, 2, 0))
        return tuple(results)


def _image(size: int = 64) -> tuple[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return (torch.randn(1, 3, size, size, generator=g),)


def resnet() -> tuple[nn.Module, tuple[Any, ...]]:
    return _ResNet(), _image()


def mobilenet_v2() -> tuple[nn.Module, tuple[Any, ...]]:
    return _MobileNetV2(), _image()


def resnet_fpn() -> tuple[nn.Module, tuple[Any, ...]]:
    return _ResNetFPN(), _image()


CORPUS: dict[str, Callable[[], tuple[nn.Module, tuple[Any, ...]]]] = {
    "bert": bert,
    "distilbert": distilbert,
    "gpt2": gpt2,
    "llama": llama,
    "t5_encoder": t5_encoder,
    "vit": vit,
    "whisper_encoder": whisper_encoder,
    "resnet": resnet,
    "mobilenet_v2": mobilenet_v2,
    "resnet_fpn": resnet_fpn,
}


def build(name: str) -> tuple[nn.Module, tuple[Any, ...]]:
    """The named model in eval mode with fixed random weights, and its example inputs."""
    torch.manual_seed(0)
    module, inputs = CORPUS[name]()
    return module.eval(), inputs


def reference_macs(module: nn.Module, inputs: tuple[Any, ...]) -> int:
    """MACs by ``torch.utils.flop_counter.FlopCounterMode`` (FLOPs / 2) on one forward pass.

    Attention runs on the MATH backend of ``scaled_dot_product_attention``: the CPU's fused
    kernel (``_scaled_dot_product_flash_attention_for_cpu``) has no flop formula and would
    count as zero, while the math path runs Q K^T and P V as two counted batched matmuls.
    """
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as fcm:
        module(*inputs)
    total = int(fcm.get_total_flops())
    assert total % 2 == 0
    return total // 2
