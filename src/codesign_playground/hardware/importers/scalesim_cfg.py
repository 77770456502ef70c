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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from codesign_playground.errors import HardwareSpecError
from codesign_playground.hardware.spec import HardwareSpec
from codesign_playground.hardware.templates import systolic

__all__ = [
    "CALC_FILL_BW_WORDS_PER_CYCLE",
    "ScaleSimConfig",
    "config_from_keys",
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

    def unmodelled(self) -> str | None:
        """The first setting that changes SCALE-Sim 3.0.0's figures in a way the systolic model
        does not reproduce, as a one-line error naming the key and the fix; None if there is none.

        Sparse runs; in ``USER`` mode (the only mode where SCALE-Sim uses them) custom SRAM
        layouts (bank-conflict modelling) and Ramulator latency traces; negative address offsets
        (SCALE-Sim drops a demanded address that lands on -1, its "no request" marker). Keys
        SCALE-Sim reads but never uses (``ReadRequestBuffer``, ``WriteRequestBuffer``, bank counts
        and ports without custom layouts, ``Bandwidth`` in CALC mode) need nothing."""
        if self.sparsity_support:
            return "[sparsity] SparsitySupport: sparse runs are not modelled; set it to false"
        for key, value in (
            ("IfmapOffset", self.ifmap_offset),
            ("FilterOffset", self.filter_offset),
            ("OfmapOffset", self.ofmap_offset),
        ):
            if value < 0:
                return (
                    f"[architecture_presets] {key}: negative offsets are not modelled (SCALE-Sim "
                    f"drops addresses equal to -1), got {value}; use an offset >= 0"
                )
        if self.use_user_bandwidth:
            for key, on in (
                ("IfmapCustomLayout", self.ifmap_custom_layout),
                ("FilterCustomLayout", self.filter_custom_layout),
            ):
                if on:
                    return (
                        f"[layout] {key}: custom SRAM layouts (bank conflicts) are not modelled "
                        "in USER bandwidth mode; set it to False"
                    )
            if self.use_ramulator_trace:
                return (
                    "[run_presets] UseRamulatorTrace: Ramulator DRAM latency traces are not "
                    "modelled in USER bandwidth mode; set it to False"
                )
        return None

    def require_modelled(self) -> None:
        """Raise :class:`~codesign_playground.errors.HardwareSpecError` with
        :meth:`unmodelled`'s message if there is one."""
        problem = self.unmodelled()
        if problem is not None:
            raise HardwareSpecError(problem)


# (section, key, field, kind); kinds: int, posint, str, dataflow, mode, ints and the three ways
# SCALE-Sim 3.0.0 reads a flag: bool (configparser's getboolean: 1/yes/true/on, 0/no/false/off),
# exact_true (``== 'True'``, anything else is off), lower_true (``.lower() == 'true'``).
_CFG_KEYS: tuple[tuple[str, str, str, str], ...] = (
    ("general", "run_name", "run_name", "str"),
    ("run_presets", "InterfaceBandwidth", "interface_bandwidth", "mode"),
    ("run_presets", "UseRamulatorTrace", "use_ramulator_trace", "exact_true"),
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
    ("sparsity", "SparsitySupport", "sparsity_support", "lower_true"),
    ("sparsity", "SparseRep", "sparse_rep", "str"),
    ("sparsity", "OptimizedMapping", "optimized_mapping", "lower_true"),
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
        if low in configparser.ConfigParser.BOOLEAN_STATES:
            return configparser.ConfigParser.BOOLEAN_STATES[low]
        raise HardwareSpecError(f"{where}: expected True or False, got {text!r}")
    if kind == "exact_true":
        return text == "True"
    if kind == "lower_true":
        return text.lower() == "true"
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
    raw = {
        (section, key): parser.get(section, key)
        for section, key, _, _ in _CFG_KEYS
        if parser.has_option(section, key)
    }
    return _config(raw, f"{file}: ")


def _config(raw: dict[tuple[str, str], str], prefix: str) -> ScaleSimConfig:
    """A config from raw ``(section, key) -> value`` strings; errors start with ``prefix``."""
    values: dict[str, object] = {}
    user = raw.get(("run_presets", "InterfaceBandwidth"), "").strip() == "USER"
    for section, key, field_name, kind in _CFG_KEYS:
        if (section, key) not in raw:
            continue
        where = f"{prefix}[{section}] {key}"
        try:
            values[field_name] = _convert(kind, raw[section, key], where)
        except HardwareSpecError:
            if key == "Bandwidth" and not user:
                continue  # SCALE-Sim reads Bandwidth in USER mode only
            raise
    cfg = ScaleSimConfig(**values)  # type: ignore[arg-type]
    if cfg.use_user_bandwidth and not cfg.bandwidths:
        raise HardwareSpecError(
            f"{prefix}[architecture_presets] Bandwidth: required when InterfaceBandwidth = USER"
        )
    return cfg


def config_from_keys(keys: Mapping[str, object]) -> ScaleSimConfig:
    """A :class:`ScaleSimConfig` from SCALE-Sim's ``.cfg`` key names and values (as the reference
    cases of ``scripts/scalesim_reference.py`` store them), read the way :func:`load_config`
    reads a file: keys case-insensitive, absent keys take SCALE-Sim's defaults, unknown keys
    raise :class:`~codesign_playground.errors.HardwareSpecError` naming them."""
    by_key = {key.lower(): (section, key) for section, key, _, _ in _CFG_KEYS}
    raw: dict[tuple[str, str], str] = {}
    for name, value in keys.items():
        where = by_key.get(name.lower())
        if where is None:
            raise HardwareSpecError(f"{name}: not a SCALE-Sim 3.0.0 configuration key")
        raw[where] = str(value)
    return _config(raw, "")


def spec_from_scalesim_config(cfg: ScaleSimConfig) -> HardwareSpec:
    """The systolic description equivalent to a SCALE-Sim configuration (a setting the model
    does not reproduce, :meth:`ScaleSimConfig.unmodelled`, raises
    :class:`~codesign_playground.errors.HardwareSpecError` naming the key)."""
    cfg.require_modelled()
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
    cfg = load_config(path)
    problem = cfg.unmodelled()
    if problem is not None:
        raise HardwareSpecError(f"{path}: {problem}")
    return spec_from_scalesim_config(cfg)
