"""SCALE-Sim ``.cfg`` files as hardware descriptions: the configuration importer.

* :func:`load_config` parses a SCALE-Sim 3.0.0 ``.cfg`` into :class:`ScaleSimConfig`
  (SCALE-Sim's own defaults fill keys that are absent);
* :func:`spec_from_scalesim_config` / :func:`spec_from_scalesim_file` build the equivalent
  ``systolic`` template: the file's array, dataflow and SRAM sizes. SCALE-Sim has no clock,
  no technology node and counts one-byte words, so those come from the template's defaults
  (700 MHz and 28 nm, Google TPU v1; int8). Its bandwidth is in words per cycle: in ``USER``
  mode the first ``Bandwidth`` value, in ``CALC`` mode the 10 words/cycle at which SCALE-Sim
  fills its read buffers.

``hardware.load_hardware`` reads ``.cfg`` files through this module, so every front end
(CLI, service) accepts them. ``perf.scalesim_compat`` re-exports these names.
"""

from __future__ import annotations

import configparser
import inspect
from dataclasses import dataclass
from pathlib import Path

from codesign_playground.errors import HardwareSpecError
from codesign_playground.hardware.spec import HardwareSpec
from codesign_playground.hardware.templates import systolic

__all__ = [
    "CALC_FILL_BW_WORDS_PER_CYCLE",
    "ScaleSimConfig",
    "load_config",
    "spec_from_scalesim_config",
    "spec_from_scalesim_file",
]

CALC_FILL_BW_WORDS_PER_CYCLE = 10
"""SCALE-Sim's fixed ifmap/filter DRAM fill rate in CALC (estimate-bandwidth) mode
(``perf.systolic`` uses the same figure; ``tests/hardware`` checks they agree)."""


@dataclass(frozen=True)
class ScaleSimConfig:
    """Every key SCALE-Sim 3.0.0's ``scale_config`` reads, with its defaults."""

    run_name: str = "scale_run"
    # [run_presets]
    interface_bandwidth: str = "CALC"  # "USER" or "CALC"
    use_ramulator_trace: bool = False
    # [architecture_presets]
    array_rows: int = 4
    array_cols: int = 4
    ifmap_sram_kb: int = 256
    filter_sram_kb: int = 256
    ofmap_sram_kb: int = 128
    ifmap_offset: int = 0
    filter_offset: int = 10000000
    ofmap_offset: int = 20000000
    dataflow: str = "ws"
    read_request_buffer: int = 60
    write_request_buffer: int = 60
    bandwidths: tuple[int, ...] = ()
    # [layout]
    ifmap_custom_layout: bool = False
    ifmap_sram_bank_bandwidth: int = 10
    ifmap_sram_bank_num: int = 10
    ifmap_sram_bank_port: int = 2
    filter_custom_layout: bool = False
    filter_sram_bank_bandwidth: int = 10
    filter_sram_bank_num: int = 10
    filter_sram_bank_port: int = 2
    # [sparsity]
    sparsity_support: bool = False
    sparse_rep: str = ""
    optimized_mapping: bool = False
    block_size: int = 4
    random_seed: int = 40
    # [network_presets] (SCALE-Sim reads it from the wrong section; kept for reference only)
    topology_csv: str = ""

    @property
    def use_user_bandwidth(self) -> bool:
        """True in ``InterfaceBandwidth = USER`` mode."""
        return self.interface_bandwidth == "USER"


# (section, key, field, kind); kinds: int, posint, bool, str, dataflow, mode, ints
_CFG_KEYS: tuple[tuple[str, str, str, str], ...] = (
    ("general", "run_name", "run_name", "str"),
    ("run_presets", "InterfaceBandwidth", "interface_bandwidth", "mode"),
    ("run_presets", "UseRamulatorTrace", "use_ramulator_trace", "bool"),
    ("architecture_presets", "ArrayHeight", "array_rows", "posint"),
    ("architecture_presets", "ArrayWidth", "array_cols", "posint"),
    ("architecture_presets", "IfmapSramSzkB", "ifmap_sram_kb", "posint"),
    ("architecture_presets", "FilterSramSzkB", "filter_sram_kb", "posint"),
    ("architecture_presets", "OfmapSramSzkB", "ofmap_sram_kb", "posint"),
    ("architecture_presets", "IfmapOffset", "ifmap_offset", "int"),
    ("architecture_presets", "FilterOffset", "filter_offset", "int"),
    ("architecture_presets", "OfmapOffset", "ofmap_offset", "int"),
    ("architecture_presets", "Dataflow", "dataflow", "dataflow"),
    ("architecture_presets", "ReadRequestBuffer", "read_request_buffer", "posint"),
    ("architecture_presets", "WriteRequestBuffer", "write_request_buffer", "posint"),
    ("architecture_presets", "Bandwidth", "bandwidths", "ints"),
    ("layout", "IfmapCustomLayout", "ifmap_custom_layout", "bool"),
    ("layout", "IfmapSRAMBankBandwidth", "ifmap_sram_bank_bandwidth", "posint"),
    ("layout", "IfmapSRAMBankNum", "ifmap_sram_bank_num", "posint"),
    ("layout", "IfmapSRAMBankPort", "ifmap_sram_bank_port", "posint"),
    ("layout", "FilterCustomLayout", "filter_custom_layout", "bool"),
    ("layout", "FilterSRAMBankBandwidth", "filter_sram_bank_bandwidth", "posint"),
    ("layout", "FilterSRAMBankNum", "filter_sram_bank_num", "posint"),
    ("layout", "FilterSRAMBankPort", "filter_sram_bank_port", "posint"),
    ("sparsity", "SparsitySupport", "sparsity_support", "bool"),
    ("sparsity", "SparseRep", "sparse_rep", "str"),
    ("sparsity", "OptimizedMapping", "optimized_mapping", "bool"),
    ("sparsity", "BlockSize", "block_size", "posint"),
    ("sparsity", "RandomNumberGeneratorSeed", "random_seed", "int"),
    ("network_presets", "TopologyCsvLoc", "topology_csv", "str"),
)


def _convert(kind: str, raw: str, where: str) -> object:
    """Convert one raw cfg value; raise HardwareSpecError naming ``where`` on bad input."""
    text = raw.strip()
    if kind == "str":
        return text.strip('"')
    if kind == "bool":
        low = text.lower()
        if low in ("true", "false"):
            return low == "true"
        raise HardwareSpecError(f"{where}: expected True or False, got {text!r}")
    if kind == "mode":
        if text in ("USER", "CALC"):
            return text
        raise HardwareSpecError(f"{where}: expected USER or CALC, got {text!r}")
    if kind == "dataflow":
        if text in ("os", "ws", "is"):
            return text
        raise HardwareSpecError(f"{where}: expected os, ws or is, got {text!r}")
    if kind == "ints":
        try:
            values = tuple(int(x.strip()) for x in text.split(",") if x.strip())
        except ValueError:
            raise HardwareSpecError(
                f"{where}: expected comma-separated integers, got {text!r}"
            ) from None
        if not values or min(values) <= 0:
            raise HardwareSpecError(f"{where}: expected positive integers, got {text!r}")
        return values
    try:
        value = int(text)
    except ValueError:
        raise HardwareSpecError(f"{where}: expected an integer, got {text!r}") from None
    if kind == "posint" and value <= 0:
        raise HardwareSpecError(f"{where}: must be a positive integer, got {value}")
    return value


def load_config(path: str | Path) -> ScaleSimConfig:
    """Parse a SCALE-Sim ``.cfg`` file (keys case-insensitive, ``:`` or ``=``).

    Keys that are absent take SCALE-Sim's defaults; a malformed value raises
    :class:`~codesign_playground.errors.HardwareSpecError` naming the section and key.
    """
    file = Path(path)
    parser = configparser.ConfigParser()
    try:
        text = file.read_text()
    except OSError as exc:
        raise HardwareSpecError(f"{file}: cannot read SCALE-Sim config ({exc.strerror})") from None
    try:
        parser.read_string(text, source=str(file))
    except configparser.Error as exc:
        first = str(exc).splitlines()[0]
        raise HardwareSpecError(f"{file}: not a SCALE-Sim config: {first}") from None
    values: dict[str, object] = {}
    for section, key, field_name, kind in _CFG_KEYS:
        if parser.has_option(section, key):
            where = f"{file}: [{section}] {key}"
            values[field_name] = _convert(kind, parser.get(section, key), where)
    cfg = ScaleSimConfig(**values)  # type: ignore[arg-type]
    if cfg.use_user_bandwidth and not cfg.bandwidths:
        raise HardwareSpecError(
            f"{file}: [architecture_presets] Bandwidth: required when InterfaceBandwidth = USER"
        )
    return cfg


def spec_from_scalesim_config(cfg: ScaleSimConfig) -> HardwareSpec:
    """The systolic description equivalent to a SCALE-Sim configuration."""
    clock = float(inspect.signature(systolic).parameters["clock_hz"].default)
    words = (
        cfg.bandwidths[0]
        if cfg.use_user_bandwidth and cfg.bandwidths
        else CALC_FILL_BW_WORDS_PER_CYCLE
    )
    return systolic(
        rows=cfg.array_rows,
        cols=cfg.array_cols,
        dataflow=cfg.dataflow,  # type: ignore[arg-type]
        ifmap_sram_kb=cfg.ifmap_sram_kb,
        filter_sram_kb=cfg.filter_sram_kb,
        ofmap_sram_kb=cfg.ofmap_sram_kb,
        dram_bandwidth_bytes_per_s=words * clock,
        clock_hz=clock,
        precision="int8",
        name=cfg.run_name,
    )


def spec_from_scalesim_file(path: str | Path) -> HardwareSpec:
    """Read a SCALE-Sim ``.cfg`` file as a hardware description."""
    return spec_from_scalesim_config(load_config(path))
