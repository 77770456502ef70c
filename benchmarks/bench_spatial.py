"""Speed of the spatial mapper, and its AlexNet figures next to Eyeriss's published ones.

Run: ``.venv/bin/python benchmarks/bench_spatial.py [--budget N] [--seed S]``.

Prints, per network on the Eyeriss template (``templates.spatial()``, int16): seconds to map
the whole network, layers mapped (identical layers are mapped once), candidate mappings
evaluated and candidates per second. Then AlexNet CONV1-5 at batch 4 against Chen et al.,
JSSC 2017 (Table V: processing latency and DRAM accesses per layer, measured on the chip at
200 MHz). The model is not fitted to those figures; the errors are printed as they come.
"""

from __future__ import annotations

import argparse
import time

from codesign_playground.hardware.templates import spatial
from codesign_playground.perf.spatial import DEFAULT_BUDGET, spatial_model
from codesign_playground.workload.ir import Network, TensorSpec
from codesign_playground.workload.ops import conv
from codesign_playground.workload.zoo import build_zoo_model

# Chen et al., JSSC 52(1) 2017, Table V (AlexNet, batch 4, 200 MHz core clock):
# layer: (processing latency ms, DRAM accesses MB)
EYERISS_ALEXNET = {
    "CONV1": (20.9, 5.0),
    "CONV2": (41.9, 4.0),
    "CONV3": (23.6, 3.0),
    "CONV4": (18.4, 2.1),
    "CONV5": (10.5, 1.3),
}


def alexnet_convs(batch: int = 4) -> Network:
    """AlexNet CONV1-5 as run on Eyeriss (227x227 input, groups of 2 in CONV2/4/5)."""
    p = "int16"
    c1 = conv(
        "CONV1", TensorSpec("x", (batch, 3, 227, 227)), (96, 3, 11, 11), strides=(4, 4), precision=p
    )
    x2 = TensorSpec("p1", (batch, 96, 27, 27))
    c2 = conv("CONV2", x2, (256, 48, 5, 5), pads=(2, 2, 2, 2), groups=2, precision=p)
    x3 = TensorSpec("p2", (batch, 256, 13, 13))
    c3 = conv("CONV3", x3, (384, 256, 3, 3), pads=(1, 1, 1, 1), precision=p)
    c4 = conv("CONV4", c3.outputs[0], (384, 192, 3, 3), pads=(1, 1, 1, 1), groups=2, precision=p)
    c5 = conv("CONV5", c4.outputs[0], (256, 192, 3, 3), pads=(1, 1, 1, 1), groups=2, precision=p)
    return Network("alexnet-conv", (c1, c2, c3, c4, c5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=DEFAULT_BUDGET)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    spec = spatial()
    print(f"Eyeriss template, budget {args.budget} candidates per distinct layer, one process")
    print(
        f"{'network':<14}{'seconds':>9}{'layers':>8}{'distinct':>10}{'candidates':>12}"
        f"{'cand/s':>12}{'latency ms':>12}{'energy mJ':>11}"
    )
    for name in ("resnet50", "resnet18", "vgg16", "mobilenet_v2"):
        net = build_zoo_model(name, precision="int16")
        t0 = time.perf_counter()
        res = spatial_model(net, spec, budget=args.budget, seed=args.seed)
        dt = time.perf_counter() - t0
        mapped = [m for m in res.mappings if m is not None]
        distinct = sum(1 for m in mapped for n in m.nests if n.candidates)
        print(
            f"{name:<14}{dt:9.2f}{len(mapped):8d}{distinct:10d}{res.candidates:12d}"
            f"{res.candidates / dt:12.0f}{res.total_latency_s * 1e3:12.1f}"
            f"{res.total_energy_pj / 1e9:11.2f}"
        )

    print("\nAlexNet CONV1-5, batch 4, vs Eyeriss (JSSC 2017 Table V), objective: energy / edp")
    net = alexnet_convs()
    for objective in ("energy", "edp"):
        res = spatial_model(net, spec, budget=args.budget, seed=args.seed, objective=objective)
        dram = len(spec.memory) - 1
        print(
            f"[{objective}] {'layer':<7}{'lat ms':>8}{'paper':>8}{'err':>8}"
            f"{'DRAM MB':>9}{'paper':>8}{'err':>8}{'PEs':>6}{'bound':>9}"
        )
        for i, layer in enumerate(res.names):
            lat = res.latency_s[i] * 1e3
            mb = (res.read_bytes[dram, i] + res.write_bytes[dram, i]) / 1e6
            p_lat, p_mb = EYERISS_ALEXNET[layer]
            m = res.mappings[i]
            pes = m.nests[0].active_pes if m is not None else 0
            print(
                f"{'':<9}{layer:<7}{lat:8.1f}{p_lat:8.1f}{(lat / p_lat - 1):8.0%}"
                f"{mb:9.2f}{p_mb:8.1f}{(mb / p_mb - 1):8.0%}{pes:6d}{res.bound[i]:>9}"
            )
        tot_lat = res.total_latency_s * 1e3
        tot_mb = float((res.read_bytes[dram] + res.write_bytes[dram]).sum()) / 1e6
        p_lat = sum(v[0] for v in EYERISS_ALEXNET.values())
        p_mb = sum(v[1] for v in EYERISS_ALEXNET.values())
        print(
            f"{'':<9}{'total':<7}{tot_lat:8.1f}{p_lat:8.1f}{(tot_lat / p_lat - 1):8.0%}"
            f"{tot_mb:9.2f}{p_mb:8.1f}{(tot_mb / p_mb - 1):8.0%}"
        )


if __name__ == "__main__":
    main()
