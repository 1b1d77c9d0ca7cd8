"""Frozen inputs and outputs of the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple

from server.engine.constants import (
    DEFAULT_GUIDANCE_PASSES,
    DEFAULT_PX_PER_LATENT_TOKEN,
    DEFAULT_TEMPORAL_COMPRESSION,
    PREFILL_MFU_MOE,
)


class TaskKind(Enum):
    """How a task spends compute; every wire task maps to one of these."""

    TEXT = "text"  # prefill of input tokens + decode of output tokens
    ENCODE = "encode"  # prefill only: embeddings, classification, vision encoders
    IMAGE = "image"  # diffusion over output images
    VIDEO = "video"  # diffusion over output frames
    SPEECH_TO_TEXT = "speech-to-text"
    TEXT_TO_SPEECH = "text-to-speech"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A model as the engine sees it. The diffusion fields describe the denoiser (server/catalog/data/README.md)."""

    total_params_b: float
    active_params_b: float
    bytes_per_param: float
    default_steps: int = 30
    default_width_px: int = 1024
    default_height_px: int = 1024
    # Diffusion denoiser architecture; None / the defaults below where the catalog does not say.
    denoiser_layers: int | None = None  # transformer blocks L
    hidden_size: int | None = None  # width d
    px_per_latent_token: float = DEFAULT_PX_PER_LATENT_TOKEN  # pixels per latent token side (VAE x patch)
    temporal_compression: float = DEFAULT_TEMPORAL_COMPRESSION  # video frames per latent frame
    guidance_passes: int = DEFAULT_GUIDANCE_PASSES  # denoiser passes per step: 2 with classifier-free guidance
    quadratic_attention: bool = True  # False: linear attention, or attention folded into px_per_latent_token

    @property
    def is_mixture_of_experts(self) -> bool:
        """Fewer parameters active per token than in total: a mixture of experts (dense: all of them)."""
        return self.active_params_b < self.total_params_b


@dataclass(frozen=True, slots=True)
class GpuSpec:
    id: str
    max_power_w: float
    idle_power_w: float
    memory_gb: float
    peak_tflops_bf16: float
    performance_ratio_to_h200: float
    embodied_emissions_kgco2e: float
    embodied_water_ml: float
    host_power_intercept_w: float
    host_power_per_gpu_w: float
    peak_tflops_8bit: float | None = None  # dense FP8/INT8 tensor throughput; None: 8-bit runs at the 16-bit peak


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """Hardware a request runs on. `gpu_count=None` lets the engine size it from the model's weights."""

    gpu: GpuSpec
    gpu_count: int | None
    server_gpu_count: int
    host_power_w_ex_gpu: float | None
    average_utilization_rate: float
    embodied_emissions_kgco2e_ex_gpu: float
    embodied_water_l_ex_gpu: float
    use_life_years: float
    # Serving regime: concurrent decode streams per accelerator at its load (a replica of n accelerators
    # decodes n x streams_per_gpu sequences at once) and the share of input tokens served from KV cache.
    streams_per_gpu: float
    cached_input_share: float = 0.0
    # A fleet's published throughput per accelerator at its operating point (None: not published; the fit stands
    # in): output tokens/s decoding, input tokens/s prefilling (KV-cache hits included, at cached_input_share).
    decode_tokens_per_s_per_gpu: float | None = None
    prefill_tokens_per_s_per_gpu: float | None = None
    # The accelerators' draw as a fraction of their maximum; None: the calibration's median serving draw.
    serving_power_fraction: float | None = None
    # Model-FLOPs utilisation of a mixture of experts' prefill on this node: a production fleet's average, or a
    # saturated node's at the low-energy end of a range (constants.py).
    prefill_mfu_moe: float = PREFILL_MFU_MOE


@dataclass(frozen=True, slots=True)
class SiteSpec:
    pue: float
    wue_l_per_kwh: float
    gco2e_per_kwh: float
    grid_water_l_per_kwh: float
    # The site's own building and plant, shared per IT kWh it delivers (`hardware.site_embodied_per_it_kwh`);
    # zero where the site's are not known.
    embodied_gco2e_per_it_kwh: float = 0.0
    embodied_water_ml_per_it_kwh: float = 0.0


@dataclass(frozen=True, slots=True)
class TrainingSpec:
    usage_energy_kwh: float = 0.0
    usage_emissions_kgco2e: float = 0.0
    usage_water_l: float = 0.0
    embodied_emissions_kgco2e: float = 0.0
    embodied_water_l: float = 0.0
    lifetime_requests: float = 0.0


@dataclass(frozen=True, slots=True)
class Calibration:
    """Constants fitted on ML.ENERGY v3 measurements (server/catalog/data/calibration.csv)."""

    llm_log_intercept: float
    llm_exp_active_params: float
    llm_exp_weights_read: float
    llm_exp_batch: float
    llm_exp_gpu_count: float
    diffusion_log_intercept: float  # ln(GPU J per denoising step) at 1 TFLOP per step, batch 1, H100
    diffusion_exp_flops: float  # exponent on the denoiser's FLOPs per step
    diffusion_batch_size: float
    diffusion_exp_batch: float
    gpu_serving_power_fraction: float
    # The 10th and 90th percentiles of the same measured draw: the range of a published throughput's energy.
    gpu_serving_power_fraction_low: float
    gpu_serving_power_fraction_high: float
    # Measured / fitted at the 10th and 90th percentiles of the fits' training rows: how far a measurement strays
    # from its fit, the part of an estimate's range that no catalog figure holds (estimate.fit_scatter_bounds).
    llm_fit_scatter_low: float = 1.0
    llm_fit_scatter_high: float = 1.0
    diffusion_fit_scatter_low: float = 1.0
    diffusion_fit_scatter_high: float = 1.0
    llm_gpu_factors: dict[str, float] = field(default_factory=dict)
    diffusion_gpu_factors: dict[str, float] = field(default_factory=dict)


class Workload(NamedTuple):
    """One request's counts. Immutable like the other specs, but a named tuple: built once per row, it is
    three times cheaper to make than a frozen dataclass (bench/sheets.py: 5,000 lines per call)."""

    kind: TaskKind
    input_tokens: float = 0.0
    output_tokens: float = 0.0
    input_image_pixels: float = 0.0
    output_image_pixels: tuple[float, ...] = ()
    steps: int | None = None
    input_audio_s: float = 0.0
    output_audio_s: float = 0.0
    output_audio_tokens: float | None = None
    video_frames: float = 0.0
    video_frame_pixels: float = 0.0


class Impacts(NamedTuple):
    """The five metrics of one request (or part of it). A named tuple, as `Workload`: made twice per row."""

    usage_energy_wh: float
    usage_emissions_gco2e: float
    usage_water_ml: float
    embodied_emissions_gco2e: float
    embodied_water_ml: float

    def __add__(self, other: Impacts) -> Impacts:  # type: ignore[override]  # metric-wise, not concatenation
        return Impacts(
            self.usage_energy_wh + other.usage_energy_wh,
            self.usage_emissions_gco2e + other.usage_emissions_gco2e,
            self.usage_water_ml + other.usage_water_ml,
            self.embodied_emissions_gco2e + other.embodied_emissions_gco2e,
            self.embodied_water_ml + other.embodied_water_ml,
        )


ZERO_IMPACTS = Impacts(0.0, 0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class Prepared:
    """Everything about a (model, hardware, site) that does not depend on the row's counts.

    Impacts are linear in the GPU energy of the request, so the per-row work is a few multiplications.
    """

    gpu_count: int
    batch_size: float
    decode_j_per_token: float
    prefill_j_per_token: float
    prompt_j_per_token: float  # prefill of a chat's text input tokens, net of the share served from KV cache
    diffusion_j_per_step: float  # J per denoising step at 1 TFLOP per step (fit x batch x GPU factor)
    diffusion_exp_flops: float
    # TFLOPs per denoising step = diffusion_tflops_per_px x X + diffusion_tflops_per_px2 x X^2, where
    # X = output pixels x latent frames (1 for an image): linear layers, then softmax attention.
    diffusion_tflops_per_px: float
    diffusion_tflops_per_px2: float
    temporal_compression: float
    default_steps: int
    default_image_pixels: float
    usage_wh_per_gpu_j: float
    usage_gco2e_per_gpu_j: float
    usage_water_ml_per_gpu_j: float
    embodied_gco2e_per_gpu_j: float
    embodied_water_ml_per_gpu_j: float
    node_seconds_per_gpu_j: float
    training: Impacts
    # The parts of the usage figures, for explaining one estimate (`estimate.usage_parts`): IT joules of the
    # host and of the idle reserve per GPU joule, the site's PUE, and the on-site share of the water per GPU joule.
    host_j_per_gpu_j: float = 0.0
    idle_j_per_gpu_j: float = 0.0
    pue: float = 1.0
    onsite_water_ml_per_gpu_j: float = 0.0
    # The fleet's published throughput the decode and prompt energies come from (None: the fit's), for the trace.
    published_tokens_per_s_per_gpu: tuple[float | None, float | None] = (None, None)
    # The model-FLOPs utilisation prefill runs at where no prefill rate is published (debug shows it).
    prefill_mfu: float = 0.0


class UsageParts(NamedTuple):
    """A request's usage energy and water in the parts Google's split uses (Elsworth et al. 2025): they add up to
    its `usage_energy_wh` and `usage_water_ml`."""

    accelerators_wh: float
    host_wh: float
    idle_reserve_wh: float
    overhead_wh: float  # cooling and power distribution: the IT energy x (PUE - 1)
    onsite_water_ml: float  # cooling water at the site
    generation_water_ml: float  # water consumed generating the facility's electricity
