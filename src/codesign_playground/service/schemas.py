"""Request and response bodies of the API (pydantic), apart from the SQLAlchemy tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from codesign_playground.explore.space import Strategy
from codesign_playground.perf.estimate import Mode
from codesign_playground.units import Precision

__all__ = [
    "DB_INT_MAX",
    "DIM_NAME_PATTERN",
    "MAX_DIM_SIZE",
    "MAX_SEED",
    "PUBLIC_ID_PATTERN",
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyPublic",
    "Dims",
    "EstimatePublic",
    "EstimateRequest",
    "ExplorationCreate",
    "HardwareCreate",
    "HardwarePublic",
    "HardwareRef",
    "JobList",
    "JobProgress",
    "JobPublic",
    "Me",
    "ModelList",
    "ModelPublic",
    "ModelRef",
    "PublicId",
    "RtlCreate",
    "SpaceCheck",
    "TemplateCreate",
    "ZooKnobs",
    "synthesis_size_error",
]


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]

DB_INT_MAX = 2**31 - 1
"""Largest id or offset a request may carry: ids are 32-bit INTEGER columns in PostgreSQL, and
a larger number would fail in the driver (a 500) instead of finding nothing (a 404)."""

MAX_SEED = 2**32 - 1
"""Largest seed (NumPy's and optuna's samplers take seeds in [0, 2^32))."""
JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
PUBLIC_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
PublicId = Annotated[str, Field(pattern=PUBLIC_ID_PATTERN, description="a random public id")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelPublic(BaseModel):
    """A stored ONNX model (the file itself is not returned)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    owner: str
    name: str
    filename: str
    sha256: str
    size_bytes: int
    node_count: int
    summary: dict[str, Any]
    created_at: UtcDatetime


class ModelList(BaseModel):
    items: list[ModelPublic]
    count: int


class ZooKnobs(_Strict):
    """A zoo model's shape knobs (``None``: the model's default); each model takes some."""

    resolution: int | None = Field(default=None, ge=1, le=8192, description="input pixels")
    seq_len: int | None = Field(default=None, ge=1, le=1_048_576, description="tokens")
    kv_len: int | None = Field(default=None, ge=1, le=1_048_576, description="cached tokens")
    width: float | None = Field(default=None, gt=0, le=16, description="width multiplier")

    def given(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class ModelRef(_Strict):
    """Exactly one of a stored model id or a zoo model name (a zoo model may take knobs)."""

    model_id: PublicId | None = Field(default=None, description="id of an uploaded model")
    zoo: str | None = Field(default=None, min_length=1, description="a zoo model name")
    knobs: ZooKnobs | None = Field(
        default=None, description="zoo knobs (resolution, seq_len, kv_len, width)"
    )

    @model_validator(mode="after")
    def _one(self) -> ModelRef:
        if (self.model_id is None) == (self.zoo is None):
            raise ValueError("give exactly one of model_id or zoo")
        if self.knobs is not None and self.model_id is not None:
            raise ValueError("knobs apply to zoo models only (a file's shapes are its own)")
        return self


class HardwareRef(_Strict):
    """Exactly one of a stored description id, a catalog chip, or an inline description."""

    hardware_id: PublicId | None = Field(default=None, description="id of a stored description")
    chip: str | None = Field(default=None, min_length=1, description="catalog id or alias")
    spec: dict[str, Any] | None = Field(default=None, description="an inline description")

    @model_validator(mode="after")
    def _one(self) -> HardwareRef:
        if sum(v is not None for v in (self.hardware_id, self.chip, self.spec)) != 1:
            raise ValueError("give exactly one of hardware_id, chip or spec")
        return self


class HardwareCreate(_Strict):
    spec: dict[str, Any] = Field(description="a hardware description (see docs/hardware.md)")


class TemplateCreate(_Strict):
    params: dict[str, Any] = Field(default_factory=dict, description="template arguments")


class HardwarePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    owner: str
    name: str
    kind: str
    spec: dict[str, Any]
    created_at: UtcDatetime


DIM_NAME_PATTERN = r"^[^\x00-\x1f\x7f=]{1,128}$"  # an ONNX dim_param: any printable name
MAX_DIM_SIZE = 2**24
DimName = Annotated[str, Field(pattern=DIM_NAME_PATTERN)]
DimSize = Annotated[int, Field(ge=1, le=MAX_DIM_SIZE)]
Dims = Annotated[
    dict[DimName, DimSize],
    Field(
        max_length=64,
        description=(
            "sizes of named symbolic input dimensions of an uploaded ONNX model (the CLI's "
            '--dim NAME=SIZE), e.g. {"sequence": 128}; they replace the sizes bound at upload'
        ),
    ),
]


class EstimateRequest(_Strict):
    model: ModelRef
    hardware: HardwareRef
    batch: int = Field(default=1, ge=1, le=65536)
    dims: Dims | None = None
    allow_unresolved: bool | None = Field(
        default=None,
        description=(
            "count a graph whose arithmetic ops have shapes no inference resolves: those ops "
            "are left out and the estimate's 'unresolved' says how many (default: as the "
            "model was uploaded; else such a graph is a 422 naming the node)"
        ),
    )
    precision: Precision | None = Field(
        default=None,
        description=(
            "compute precision; default: fp32 where the hardware has it, else its first "
            "(int8 on a TPU v1)"
        ),
    )
    mode: Mode = "auto"
    launch: Literal["graph", "eager"] = Field(
        default="graph",
        description="GPU execution: graph (kernel time only) or eager (plus launch cost)",
    )
    tf32: Literal["on", "off"] | None = Field(
        default=None,
        description="GPU fp32 on tensor cores; default PyTorch's (convolutions TF32 only)",
    )
    include_layers: bool = Field(default=True, description="include one record per layer")


class EstimatePublic(BaseModel):
    cached: bool
    key: str
    estimate: dict[str, Any]


class ExplorationCreate(_Strict):
    space: dict[str, Any] = Field(description="a design-space document (see docs/explore.md)")
    model_id: PublicId | None = Field(
        default=None, description="an uploaded model to explore (replaces space.model.name)"
    )
    strategy: Strategy | None = Field(default=None, description="overrides space.search.strategy")
    budget: int | None = Field(default=None, ge=1, le=1_000_000, description="evaluations")
    seed: int | None = Field(
        default=None, ge=0, le=MAX_SEED, description="overrides space.search.seed"
    )


class SpaceCheck(_Strict):
    """A design-space document to check, as parsed JSON or as YAML text (exactly one)."""

    space: dict[str, Any] | None = Field(default=None, description="the document")
    yaml: str | None = Field(default=None, max_length=200_000, description="the document as YAML")
    model_id: PublicId | None = Field(default=None, description="an uploaded model to explore")

    @model_validator(mode="after")
    def _one(self) -> SpaceCheck:
        if (self.space is None) == (self.yaml is None):
            raise ValueError("give exactly one of space or yaml")
        return self


class RtlCreate(_Strict):
    rows: int = Field(ge=2, le=64, description="PE rows (with synthesize: see that field)")
    cols: int = Field(ge=2, le=64, description="PE columns (with synthesize: see that field)")
    dataflow: Literal["ws", "os"] = "ws"
    data_width: int = Field(default=8, ge=4, le=16)
    acc_width: int | None = Field(default=None, ge=8, le=64)
    buffer_depth: int = Field(default=512, ge=16, le=65536)
    name: str = Field(default="systolic_top", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    simulate: bool = Field(
        default=False, description="run the GEMM test bench (Icarus Verilog) and report it"
    )
    synthesize: bool = Field(
        default=False,
        description="synthesize with Yosys (generic cells) and report the counts; only arrays "
        "of at most CODESIGN_SYNTH_MAX_PES PEs (rows x cols; default 256, 16x16), else 422",
    )


def synthesis_size_error(rows: int, cols: int, max_pes: int) -> str | None:
    """The one-line reason a ``rows`` x ``cols`` array is too large to synthesize, or None."""
    if rows * cols <= max_pes:
        return None
    return (
        f"synthesize takes arrays of at most CODESIGN_SYNTH_MAX_PES = {max_pes} PEs "
        f"(rows x cols), got {rows} x {cols} = {rows * cols}; Yosys needs many GB and minutes "
        "for large arrays: ask for a smaller array, or generate and simulate this one without "
        "synthesize (up to 64 x 64)"
    )


class JobProgress(BaseModel):
    evaluated: int = 0
    total: int | None = None
    best_so_far: dict[str, Any] | None = None
    eta_s: float | None = None
    points_per_second: float | None = None
    message: str | None = None
    chunks: dict[str, int] | None = Field(
        default=None, description="chunked explorations: chunks by status, points of done ones"
    )
    front: list[dict[str, Any]] | None = Field(
        default=None, description="chunked explorations: the running feasible Pareto front"
    )
    front_size: int | None = None


class JobPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    owner: str
    kind: str
    status: JobStatus
    params: dict[str, Any]
    progress: JobProgress
    error: str | None
    cancel_requested: bool
    attempts: int
    created_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None
    duration_s: float | None
    artifact_name: str | None


class JobList(BaseModel):
    items: list[JobPublic]
    count: int


class Me(BaseModel):
    owner: str
    scope: Literal["read", "write", "admin"]
    via: Literal["none", "api-key", "oidc"]
    auth_mode: Literal["none", "api-key"] | None


class ApiKeyCreate(_Strict):
    owner: str = Field(min_length=1, max_length=200, description="the owner the key acts as")
    scope: Literal["read", "write", "admin"] = "write"


class ApiKeyPublic(BaseModel):
    """A key's record; the key itself is never stored or shown again."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    owner: str
    scope: str
    prefix: str = Field(description="the key's first characters, to recognise it")
    created_at: UtcDatetime
    revoked_at: UtcDatetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(default="", description="the key: shown in this answer only")
