"""Templates: plain functions that return a :class:`HardwareSpec` with sourced defaults.

Each default names where it comes from in the returned spec's ``sources``; a value passed by
the caller is recorded as "given to <template>()".  Invalid arguments raise
:class:`~codesign_playground.errors.HardwareSpecError` naming the field.

* :func:`systolic` — SCALE-Sim's default array and SRAMs, Google TPU v1 clock/DRAM/node.
* :func:`vector`   — a lane-based vector processor (RISC-V V register file, Ara defaults).
* :func:`spatial`  — an Eyeriss-like PE array with per-PE scratchpads and a global buffer
  (Eyeriss v1 defaults).
* :func:`gpu`      — an SM-based GPU (NVIDIA A100 SXM4 defaults).
"""

from __future__ import annotations

from typing import Any

from codesign_playground.errors import HardwareSpecError
from codesign_playground.hardware.spec import (
    PRECISIONS,
    Dataflow,
    HardwareSpec,
    Precision,
    hardware_from_dict,
)
from codesign_playground.hardware.technology import sram_read_energy_pj
from codesign_playground.units import PRECISION_BITS

__all__ = ["gpu", "spatial", "systolic", "vector"]

KIB = 1024

_SCALESIM = "SCALE-Sim v2 default config (scalesim-project/scale-sim-v2, configs/scale.cfg)"
_TPU1 = "Jouppi et al., 'In-Datacenter Performance Analysis of a Tensor Processing Unit', ISCA 2017"
_EYERISS = (
    "Chen et al., 'Eyeriss: An Energy-Efficient Reconfigurable Accelerator for Deep CNNs', "
    "IEEE JSSC 52(1), 2017 (ISSCC 2016 paper 14.5)"
)
_A100_DS = "NVIDIA A100 Tensor Core GPU datasheet (2021), specifications table, A100 80GB SXM"
_A100_WP = "NVIDIA A100 Tensor Core GPU Architecture whitepaper (2020)"
_ARA = (
    "Cavalcante et al., 'Ara: A 1-GHz+ Scalable and Energy-Efficient RISC-V Vector Processor "
    "with Multiprecision Floating-Point Support in 22-nm FD-SOI', IEEE TVLSI 28(2), 2020"
)
_RVV = "RISC-V 'V' vector extension v1.0: 32 vector registers"


class _Sources:
    """Collects ``sources`` entries: the default's citation, or 'given to fn()'."""

    def __init__(self, template: str) -> None:
        self.template = template
        self.items: dict[str, str] = {}

    def add(self, path: str, value: Any, default: Any, source: str) -> None:
        self.items[path] = source if value == default else f"given to {self.template}()"

    def derived(self, path: str, how: str) -> None:
        self.items[path] = f"derived: {how}"


def _kb_to_bytes(field: str, kb: float) -> int:
    if not kb > 0:
        raise HardwareSpecError(f"hardware field '{field}': must be > 0 (got {kb!r})")
    return round(kb * KIB)


def _sram_energy(level: dict[str, Any], node: float | None, src: _Sources, width: int) -> None:
    """Fill read/write energy of an SRAM level from the technology tables (node known)."""
    if node is None:
        return
    energy = sram_read_energy_pj(float(level["capacity_bytes"]), width, node)
    level["access_width_bits"] = width
    level["read_energy_pj"] = energy
    level["write_energy_pj"] = energy
    name = level["name"]
    how = (
        f"technology.sram_read_energy_pj({level['capacity_bytes']} bytes, {width} bits, "
        f"{node:g} nm) (Horowitz ISSCC 2014 scaled; writes taken equal to reads)"
    )
    src.derived(f"memory.{name}.access_width_bits", "width of the energy figures below")
    src.derived(f"memory.{name}.read_energy_pj", how)
    src.derived(f"memory.{name}.write_energy_pj", how)


def _word_bytes(precision: Precision) -> float:
    return PRECISION_BITS[precision] / 8


def _check_precision(field: str, precision: str) -> Precision:
    if precision not in PRECISIONS:
        raise HardwareSpecError(
            f"hardware field '{field}': must be one of {', '.join(PRECISIONS)} (got {precision!r})"
        )
    return precision


def systolic(
    rows: int = 32,
    cols: int = 32,
    dataflow: Dataflow = "ws",
    ifmap_sram_kb: float = 64,
    filter_sram_kb: float = 64,
    ofmap_sram_kb: float = 64,
    dram_bandwidth_bytes_per_s: float = 34e9,
    clock_hz: float = 700e6,
    tech_node_nm: float | None = 28,
    precision: Precision = "int8",
    name: str = "systolic",
    cores: int = 1,
    also_computes: tuple[Precision, ...] = (),
) -> HardwareSpec:
    """A SCALE-Sim-style systolic array with separate ifmap/filter/ofmap SRAMs and DRAM.

    ``cores`` identical arrays share each layer's filters; ``also_computes`` lists further
    precisions the cells compute at one MAC per cycle (a co-design point sized for a model
    that mixes precisions; the widest sets the PE area).

    Defaults: 32x32 array and 64 KiB per SRAM from SCALE-Sim's default config; weight-
    stationary dataflow, 700 MHz clock, 34 GB/s DRAM, 28 nm and int8 from Google TPU v1.
    SRAMs are double-buffered (SCALE-Sim models double-buffered scratchpads) and each feeds
    one word per edge PE per cycle.
    """
    s = _Sources("systolic")
    precision = _check_precision("compute.macs_per_pe_per_cycle", precision)
    word = _word_bytes(precision)
    s.add("compute.rows", rows, 32, f"{_SCALESIM}: ArrayHeight 32")
    s.add("compute.cols", cols, 32, f"{_SCALESIM}: ArrayWidth 32")
    s.add("dataflow", dataflow, "ws", f"{_TPU1}: weight-stationary matrix unit")
    s.add("compute.clock_hz", clock_hz, 700e6, f"{_TPU1}, Table 2: 700 MHz")
    s.add(
        f"compute.macs_per_pe_per_cycle.{precision}",
        precision,
        "int8",
        f"{_TPU1}: one 8-bit MAC per cell per cycle",
    )
    s.add("tech_node_nm", tech_node_nm, 28, f"{_TPU1}, Table 2: 28 nm")
    s.add("compute.cores", cores, 1, "template: one array (TPU v1 has one matrix unit)")
    for p in also_computes:
        if p != _check_precision("compute.macs_per_pe_per_cycle", p):
            continue
        s.items.setdefault(f"compute.macs_per_pe_per_cycle.{p}", "given to systolic()")
    levels: list[dict[str, Any]] = []
    for key, kb, default_kb, holds, feed, feed_name in (
        ("ifmap_sram", ifmap_sram_kb, 64, ["inputs"], rows, "rows"),
        ("filter_sram", filter_sram_kb, 64, ["weights"], cols, "cols"),
        ("ofmap_sram", ofmap_sram_kb, 64, ["outputs"], cols, "cols"),
    ):
        level: dict[str, Any] = {
            "name": key,
            "capacity_bytes": _kb_to_bytes(f"{key}_kb", kb),
            "holds": holds,
            "bytes_per_cycle": feed * word,
            "double_buffered": True,
        }
        cfg = {
            "ifmap_sram": "IfmapSramSzkB",
            "filter_sram": "FilterSramSzkB",
            "ofmap_sram": "OfmapSramSzkB",
        }[key]
        s.add(
            f"memory.{key}.capacity_bytes",
            kb,
            default_kb,
            f"{_SCALESIM}: {cfg} 64 (KiB = 1024 bytes)",
        )
        s.derived(
            f"memory.{key}.bytes_per_cycle",
            f"one {precision} word per array edge PE per cycle ({feed_name} = {feed})",
        )
        s.items[f"memory.{key}.double_buffered"] = (
            "SCALE-Sim models double-buffered scratchpads (scalesim.memory."
            "double_buffered_scratchpad_mem)"
        )
        _sram_energy(level, tech_node_nm, s, 64)
        levels.append(level)
    levels.append(
        {
            "name": "dram",
            "holds": ["weights", "inputs", "outputs"],
            "bandwidth_bytes_per_s": dram_bandwidth_bytes_per_s,
        }
    )
    s.add(
        "memory.dram.bandwidth_bytes_per_s",
        dram_bandwidth_bytes_per_s,
        34e9,
        f"{_TPU1}, Table 2: 34 GB/s weight-memory bandwidth",
    )
    data: dict[str, Any] = {
        "name": name,
        "kind": "systolic",
        "description": "Systolic array template (SCALE-Sim / TPU v1 defaults)",
        "compute": {
            "rows": rows,
            "cols": cols,
            "cores": cores,
            "macs_per_pe_per_cycle": {precision: 1, **dict.fromkeys(also_computes, 1)},
            "clock_hz": clock_hz,
        },
        "memory": levels,
        "dataflow": dataflow,
        "tech_node_nm": tech_node_nm,
        "sources": s.items,
    }
    return _build(data)


def vector(
    lanes: int,
    vector_length: int,
    *,
    macs_per_lane_per_cycle: dict[Precision, float] | None = None,
    clock_hz: float = 1.04e9,
    dram_bytes_per_cycle: float | None = None,
    tech_node_nm: float | None = 22,
    name: str = "vector",
) -> HardwareSpec:
    """A vector processor: ``lanes`` parallel lanes and a 32-register vector register file.

    ``vector_length`` is the number of 32-bit elements per vector register, so the register
    file holds ``32 * vector_length * 4`` bytes (RISC-V V has 32 vector registers).  Each lane
    is a 32-bit datapath: by default 1 fp32, 2 fp16 or 4 int8 MACs per cycle (sub-word SIMD).
    Clock (1.04 GHz), node (22 nm) and a memory port of 32 bits per lane per cycle follow Ara.
    """
    s = _Sources("vector")
    if not isinstance(lanes, int) or lanes <= 0:
        raise HardwareSpecError(f"hardware field 'compute.cols': must be > 0 (got {lanes!r})")
    if not isinstance(vector_length, int) or vector_length <= 0:
        raise HardwareSpecError(
            f"hardware field 'vector_length': must be a positive integer (got {vector_length!r})"
        )
    default_macs: dict[Precision, float] = {"fp32": 1.0, "fp16": 2.0, "int8": 4.0}
    macs = dict(macs_per_lane_per_cycle) if macs_per_lane_per_cycle else default_macs
    for p in macs:
        key = f"compute.macs_per_pe_per_cycle.{p}"
        if macs_per_lane_per_cycle:
            s.items[key] = "given to vector()"
        else:
            s.derived(
                key,
                "32-bit lane datapath with sub-word SIMD: 32 / operand bits, "
                "one FMA per 32-bit slot per cycle",
            )
    s.items["compute.cols"] = "given to vector() (lanes)"
    s.items["compute.rows"] = "template: the lanes form one row of PEs"
    s.add("compute.clock_hz", clock_hz, 1.04e9, f"{_ARA}: 1.04 GHz")
    s.add("tech_node_nm", tech_node_nm, 22, f"{_ARA}: GlobalFoundries 22 nm FD-SOI")
    vrf_bytes = 32 * vector_length * 4
    s.derived("memory.vrf.capacity_bytes", f"{_RVV} x vector_length {vector_length} x 4 bytes")
    s.derived(
        "memory.vrf.bytes_per_cycle",
        "3 operands x 4 bytes per lane per cycle (two sources and one destination of an FMA)",
    )
    mem_bpc = 4.0 * lanes if dram_bytes_per_cycle is None else dram_bytes_per_cycle
    if dram_bytes_per_cycle is None:
        s.derived("memory.dram.bytes_per_cycle", f"{_ARA}: memory port 32 bits per lane per cycle")
    else:
        s.items["memory.dram.bytes_per_cycle"] = "given to vector()"
    vrf: dict[str, Any] = {
        "name": "vrf",
        "capacity_bytes": vrf_bytes,
        "holds": ["weights", "inputs", "outputs"],
        "bytes_per_cycle": 12.0 * lanes,
    }
    _sram_energy(vrf, tech_node_nm, s, 32)
    data: dict[str, Any] = {
        "name": name,
        "kind": "vector",
        "description": f"Vector processor template: {lanes} lanes, VLEN {vector_length} x 32 bit",
        "compute": {"rows": 1, "cols": lanes, "macs_per_pe_per_cycle": macs, "clock_hz": clock_hz},
        "memory": [
            vrf,
            {"name": "dram", "holds": ["weights", "inputs", "outputs"], "bytes_per_cycle": mem_bpc},
        ],
        "dataflow": "vector",
        "tech_node_nm": tech_node_nm,
        "sources": s.items,
    }
    return _build(data)


def spatial(
    rows: int = 12,
    cols: int = 14,
    dataflow: Dataflow = "rs",
    glb_kb: float = 108,
    filter_spad_bytes: int = 448,
    ifmap_spad_bytes: int = 24,
    psum_spad_bytes: int = 48,
    dram_bandwidth_bytes_per_s: float = 720e6,
    clock_hz: float = 200e6,
    tech_node_nm: float | None = 65,
    precision: Precision = "int16",
    name: str = "spatial",
) -> HardwareSpec:
    """An Eyeriss-like spatial array: per-PE filter/ifmap/psum scratchpads and a global buffer.

    Defaults are Eyeriss v1: 12 x 14 PEs, 16-bit fixed point (``int16``), spads of 224 / 12 /
    24 16-bit words, a 108 KB global buffer holding ifmaps and psums, 200 MHz, 65 nm, and a
    64-bit DRAM link at 90 MHz (720 MB/s).
    """
    s = _Sources("spatial")
    precision = _check_precision("compute.macs_per_pe_per_cycle", precision)
    s.add("compute.rows", rows, 12, f"{_EYERISS}: 12 x 14 PE array")
    s.add("compute.cols", cols, 14, f"{_EYERISS}: 12 x 14 PE array")
    s.add("dataflow", dataflow, "rs", f"{_EYERISS}: row-stationary dataflow")
    s.add(
        f"compute.macs_per_pe_per_cycle.{precision}",
        precision,
        "int16",
        f"{_EYERISS}: one 16-bit fixed-point MAC per PE per cycle",
    )
    s.add(
        "compute.clock_hz",
        clock_hz,
        200e6,
        f"{_EYERISS}: 200 MHz core clock of the reported AlexNet/VGG-16 measurements",
    )
    s.add("tech_node_nm", tech_node_nm, 65, f"{_EYERISS}: TSMC 65 nm LP")
    n_pe = rows * cols
    spads = []
    for key, size, default, holds, words in (
        ("filter_spad", filter_spad_bytes, 448, ["weights"], 224),
        ("ifmap_spad", ifmap_spad_bytes, 24, ["inputs"], 12),
        ("psum_spad", psum_spad_bytes, 48, ["outputs"], 24),
    ):
        level: dict[str, Any] = {
            "name": key,
            "capacity_bytes": size,
            "instances": n_pe,
            "holds": holds,
        }
        s.add(
            f"memory.{key}.capacity_bytes",
            size,
            default,
            f"{_EYERISS}: {words} x 16-bit words per PE",
        )
        s.derived(f"memory.{key}.instances", f"one per PE (rows x cols = {n_pe})")
        _sram_energy(level, tech_node_nm, s, 16)
        spads.append(level)
    glb: dict[str, Any] = {
        "name": "glb",
        "capacity_bytes": _kb_to_bytes("glb_kb", glb_kb),
        "holds": ["inputs", "outputs"],
    }
    s.add(
        "memory.glb.capacity_bytes",
        glb_kb,
        108,
        f"{_EYERISS}: 108 KB global buffer (KB = 1024 bytes)",
    )
    s.items["memory.glb.holds"] = f"{_EYERISS}: the GLB buffers ifmaps and psums"
    _sram_energy(glb, tech_node_nm, s, 64)
    s.add(
        "memory.dram.bandwidth_bytes_per_s",
        dram_bandwidth_bytes_per_s,
        720e6,
        f"derived: {_EYERISS}: 64-bit off-chip data bus x 90 MHz link clock",
    )
    data: dict[str, Any] = {
        "name": name,
        "kind": "spatial",
        "description": "Eyeriss-like spatial array template (Eyeriss v1 defaults)",
        "compute": {
            "rows": rows,
            "cols": cols,
            "macs_per_pe_per_cycle": {precision: 1},
            "clock_hz": clock_hz,
        },
        "memory": [
            *spads,
            glb,
            {
                "name": "dram",
                "holds": ["weights", "inputs", "outputs"],
                "bandwidth_bytes_per_s": dram_bandwidth_bytes_per_s,
            },
        ],
        "dataflow": dataflow,
        "tech_node_nm": tech_node_nm,
        "sources": s.items,
    }
    return _build(data)


_A100_MACS: dict[Precision, float] = {
    "fp32": 16,
    "fp16": 256,
    "bf16": 256,
    "int8": 512,
    "int4": 1024,
}


def gpu(
    sms: int = 108,
    tensor_cores_per_sm: int = 4,
    macs_per_tensor_core_per_cycle: dict[Precision, float] | None = None,
    clock_hz: float = 1.41e9,
    smem_kb_per_sm: float = 192,
    l2_mb: float = 40,
    dram_capacity_bytes: int | None = 80_000_000_000,
    dram_bandwidth_bytes_per_s: float = 2039e9,
    tech_node_nm: float | None = 7,
    name: str = "gpu",
) -> HardwareSpec:
    """An SM-based GPU: ``sms`` cores of ``tensor_cores_per_sm`` PEs each.

    A PE is one SM sub-partition: a tensor core plus its share of the SM's CUDA cores (fp32).
    Defaults are the NVIDIA A100 SXM4 80GB: 108 SMs x 4 tensor cores at 1.41 GHz; per tensor
    core and cycle 256 fp16/bf16, 512 int8, 1024 int4 MACs; 16 fp32 FMAs per sub-partition;
    192 KB L1/shared per SM (128 B/clk), 40 MB L2 (5120 B/clk), 80 GB HBM2e at 2039 GB/s.
    """
    s = _Sources("gpu")
    s.add("compute.cores", sms, 108, f"{_A100_WP}: 108 SMs")
    s.items["compute.rows"] = "template: the sub-partitions of an SM form one row of PEs"
    s.add(
        "compute.cols",
        tensor_cores_per_sm,
        4,
        f"{_A100_WP}: 4 third-generation tensor cores per SM, one per SM sub-partition",
    )
    s.add("compute.clock_hz", clock_hz, 1.41e9, f"{_A100_WP}: 1410 MHz boost clock")
    macs = dict(macs_per_tensor_core_per_cycle) if macs_per_tensor_core_per_cycle else _A100_MACS
    for p in macs:
        key = f"compute.macs_per_pe_per_cycle.{p}"
        if macs_per_tensor_core_per_cycle:
            s.items[key] = "given to gpu()"
        elif p == "fp32":
            s.derived(key, f"{_A100_WP}: 64 FP32 CUDA cores per SM / 4 sub-partitions")
        else:
            s.items[key] = (
                f"{_A100_WP}: dense {p} rate per tensor core "
                "(1024 FP16 FMA/clk per SM; INT8 2x, INT4 4x)"
            )
    smem = _kb_to_bytes("smem_kb_per_sm", smem_kb_per_sm)
    s.add(
        "memory.smem.capacity_bytes",
        smem_kb_per_sm,
        192,
        f"{_A100_WP}: 192 KB combined L1/shared memory per SM",
    )
    s.derived("memory.smem.instances", f"one per SM ({sms})")
    l2 = _kb_to_bytes("l2_mb", l2_mb * 1024)
    s.add("memory.l2.capacity_bytes", l2_mb, 40, f"{_A100_WP}: 40 MB L2 cache (MB = 2^20 bytes)")
    s.add(
        "memory.dram.capacity_bytes",
        dram_capacity_bytes,
        80_000_000_000,
        f"{_A100_DS}: 80 GB HBM2e (GB taken as 10^9 bytes)",
    )
    s.add(
        "memory.dram.bandwidth_bytes_per_s",
        dram_bandwidth_bytes_per_s,
        2039e9,
        f"{_A100_DS}: 2,039 GB/s",
    )
    s.add("tech_node_nm", tech_node_nm, 7, f"{_A100_WP}: TSMC 7 nm N7")
    smem_level: dict[str, Any] = {
        "name": "smem",
        "capacity_bytes": smem,
        "instances": sms,
        "holds": ["weights", "inputs", "outputs"],
    }
    l2_level: dict[str, Any] = {
        "name": "l2",
        "capacity_bytes": l2,
        "holds": ["weights", "inputs", "outputs"],
    }
    if (sms, smem_kb_per_sm, l2_mb) == (108, 192, 40):
        smem_level["bytes_per_cycle"] = 128
        l2_level["bytes_per_cycle"] = 5120
        s.items["memory.smem.bytes_per_cycle"] = f"{_A100_WP}: 128 bytes/clk per SM"
        s.items["memory.l2.bytes_per_cycle"] = f"{_A100_WP}: 5120 bytes/clk L2 read bandwidth"
    data: dict[str, Any] = {
        "name": name,
        "kind": "gpu",
        "description": "SM-based GPU template (NVIDIA A100 SXM4 80GB defaults)",
        "compute": {
            "rows": 1,
            "cols": tensor_cores_per_sm,
            "cores": sms,
            "macs_per_pe_per_cycle": macs,
            "clock_hz": clock_hz,
        },
        "memory": [
            smem_level,
            l2_level,
            {
                "name": "dram",
                "capacity_bytes": dram_capacity_bytes,
                "holds": ["weights", "inputs", "outputs"],
                "bandwidth_bytes_per_s": dram_bandwidth_bytes_per_s,
            },
        ],
        "dataflow": "simt",
        "tech_node_nm": tech_node_nm,
        "sources": s.items,
    }
    return _build(data)


def _build(data: dict[str, Any]) -> HardwareSpec:
    """Validate ``data``; keep only the sources of fields that are set."""
    sources: dict[str, str] = data.pop("sources")
    spec = hardware_from_dict(_drop_none(data))
    valid = set(spec.field_paths())
    kept = {k: v for k, v in sources.items() if k in valid}
    return spec.model_copy(update={"sources": kept})


def _drop_none(data: Any) -> Any:
    """Remove None values (and sources for fields that ended up unset)."""
    if isinstance(data, dict):
        return {k: _drop_none(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [_drop_none(v) for v in data]
    return data
