"""Measured accuracy for the co-optimization demo: a small CNN on scikit-learn's digits.

The 1,797 8x8 images of ``sklearn.datasets.load_digits`` (bundled with scikit-learn, nothing
downloaded) are split once (seeded, stratified, 75/25). For each width multiplier and bit
width, :class:`DigitsCNN` is trained on the CPU with quantization-aware training: weights and
the input of every conv/dense layer pass through a per-tensor symmetric fake quantizer
(``q = clamp(round(x / s), -(2^(b-1) - 1), 2^(b-1) - 1) * s``, ``s = max|x| / (2^(b-1) - 1)``,
activation ranges tracked by an exponential moving average) whose gradient is the
straight-through estimator (Jacob et al., CVPR 2018; Bengio et al., arXiv:1308.3432, 2013);
32 bits means float training. Test accuracy is measured with the quantizers active, and the
results are cached in a CSV. Needs ``torch`` and ``scikit-learn``.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from codesign_playground.errors import InputError
from codesign_playground.explore.variants import digits_cnn_channels

__all__ = ["DigitsCNN", "measure_digits_accuracy", "train_digits"]

CSV_FIELDS = ("width", "bits", "accuracy", "epochs", "seed", "train_s")


def _imports() -> tuple[Any, Any]:
    try:
        import torch
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise InputError(
            f"accuracy.measure: digits needs torch and scikit-learn ({err.name} is missing); "
            "install them, or give an accuracy table instead"
        ) from None
    return torch, load_digits


def DigitsCNN(width: float, bits: int) -> Any:
    """The torch module of the digits CNN (same layers as ``variants.digits_cnn_network``)."""
    torch, _ = _imports()
    nn = torch.nn
    c1, c2 = digits_cnn_channels(width)

    class FakeQuant(torch.autograd.Function):  # type: ignore[misc,name-defined]
        @staticmethod
        def forward(ctx: Any, x: Any, scale: Any, qmax: float) -> Any:
            return torch.clamp(torch.round(x / scale), -qmax, qmax) * scale

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            return grad, None, None  # straight-through estimator

    class QLayer(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self, layer: Any) -> None:
            super().__init__()
            self.layer = layer
            self.register_buffer("act_max", torch.zeros(()))

        def forward(self, x: Any) -> Any:
            if bits >= 32:
                return self.layer(x)
            qmax = float(2 ** (bits - 1) - 1)
            if self.training:
                cur = x.detach().abs().max()
                self.act_max.copy_(
                    torch.where(self.act_max == 0, cur, 0.9 * self.act_max + 0.1 * cur)
                )
            a_scale = torch.clamp(self.act_max, min=1e-8) / qmax
            xq = FakeQuant.apply(x, a_scale, qmax)
            w = self.layer.weight
            w_scale = torch.clamp(w.detach().abs().max(), min=1e-8) / qmax
            wq = FakeQuant.apply(w, w_scale, qmax)
            if isinstance(self.layer, nn.Conv2d):
                return nn.functional.conv2d(xq, wq, self.layer.bias, padding=1)
            return nn.functional.linear(xq, wq, self.layer.bias)

    class Net(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = QLayer(nn.Conv2d(1, c1, 3, padding=1))
            self.conv2 = QLayer(nn.Conv2d(c1, c2, 3, padding=1))
            self.fc = QLayer(nn.Linear(c2 * 16, 10))

        def forward(self, x: Any) -> Any:
            x = torch.relu(self.conv1(x))
            x = torch.relu(self.conv2(x))
            x = nn.functional.max_pool2d(x, 2)
            return self.fc(torch.flatten(x, 1))

    return Net()


def _data(seed: int) -> tuple[Any, Any, Any, Any]:
    torch, load_digits = _imports()
    import numpy as np

    d = load_digits()
    x = (d.data / 16.0).astype("float32").reshape(-1, 1, 8, 8)
    y = d.target.astype("int64")
    rng = np.random.default_rng(seed)
    test_idx: list[int] = []
    for c in range(10):  # stratified 25 % test split
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        test_idx.extend(idx[: len(idx) // 4].tolist())
    test = np.zeros(len(y), dtype=bool)
    test[test_idx] = True
    t = torch.from_numpy
    return t(x[~test]), t(y[~test]), t(x[test]), t(y[test])


def train_digits(width: float, bits: int, *, epochs: int = 30, seed: int = 0) -> float:
    """Train the digits CNN at ``width`` with ``bits``-bit QAT; return its test accuracy."""
    torch, _ = _imports()
    xtr, ytr, xte, yte = _data(0)  # the split is fixed whatever the training seed
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        gen = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        model = DigitsCNN(width, bits)
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
        n = xtr.shape[0]
        for _ in range(epochs):
            model.train()
            perm = torch.randperm(n, generator=gen)
            for s in range(0, n, 64):
                idx = perm[s : s + 64]
                opt.zero_grad()
                loss = loss_fn(model(xtr[idx]), ytr[idx])
                loss.backward()
                opt.step()
        model.eval()
        with torch.no_grad():
            pred = model(xte).argmax(dim=1)
        return float((pred == yte).float().mean().item())
    finally:
        torch.set_num_threads(threads)


def _key(width: float, bits: int) -> tuple[float, int]:
    return (round(float(width), 6), int(bits))


def measure_digits_accuracy(
    widths: Sequence[float],
    bits: Sequence[int],
    *,
    epochs: int = 30,
    seed: int = 0,
    cache: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> list[dict[str, float | int]]:
    """Measured test accuracy for every (width, bits), read from ``cache`` when it holds the
    same epochs and seed, otherwise trained and appended to it."""
    rows: dict[tuple[float, int], dict[str, float | int]] = {}
    if cache is not None and cache.is_file():
        with cache.open(newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                if int(r["epochs"]) == epochs and int(r["seed"]) == seed:
                    key = _key(float(r["width"]), int(r["bits"]))
                    rows[key] = {
                        "width": key[0],
                        "bits": key[1],
                        "accuracy": float(r["accuracy"]),
                        "epochs": epochs,
                        "seed": seed,
                        "train_s": float(r["train_s"]),
                    }
    todo = [_key(w, b) for w in widths for b in bits if _key(w, b) not in rows]
    for w, b in todo:
        t0 = time.perf_counter()
        acc = train_digits(w, b, epochs=epochs, seed=seed)
        row: dict[str, float | int] = {
            "width": w,
            "bits": b,
            "accuracy": acc,
            "epochs": epochs,
            "seed": seed,
            "train_s": round(time.perf_counter() - t0, 3),
        }
        rows[(w, b)] = row
        if log is not None:
            log(f"digits: width {w:g}, {b}-bit QAT: test accuracy {acc:.4f}")
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            new = not cache.is_file()
            with cache.open("a", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
                if new:
                    writer.writeheader()
                writer.writerow(row)
    return [rows[_key(w, b)] for w in widths for b in bits]
