"""Per-request estimate: `prepare` once per (model, hardware, site), `estimate` per row."""

from __future__ import annotations

import math

from server.engine import constants as c
from server.engine.hardware import (
    embodied_per_node_second,
    gpu_serving_power_w,
    it_parts_per_gpu_j,
    serving_gpu_count,
    site_factors,
)
from server.engine.specs import (
    ZERO_IMPACTS,
    Calibration,
    GpuSpec,
    Impacts,
    ModelSpec,
    NodeSpec,
    Prepared,
    SiteSpec,
    TaskKind,
    TrainingSpec,
    UsageParts,
    Workload,
)


def weights_read_gb(model: ModelSpec, batch_size: float) -> float:
    """Weights one decode step reads (GB): every expert the batch touches, at most all of them.

    Decode is memory-bandwidth-bound: a step streams the weights it uses once for the whole batch.
    """
    touched_b = min(model.total_params_b, batch_size * model.active_params_b)
    return touched_b * model.bytes_per_param


def llm_gpu_factor(gpu: GpuSpec, calibration: Calibration) -> float:
    """Decode energy per token relative to H100 at equal batch: fitted where measured, else power / speed."""
    fitted = calibration.llm_gpu_factors.get(gpu.id)
    if fitted is not None:
        return fitted
    speed = gpu.performance_ratio_to_h200 / c.REFERENCE_GPU_PERFORMANCE_RATIO
    return (gpu.max_power_w / c.REFERENCE_GPU_POWER_W) / speed


def diffusion_gpu_factor(gpu: GpuSpec, calibration: Calibration) -> float:
    """Diffusion is compute-bound: relative to H100, power / dense BF16 throughput where not measured."""
    fitted = calibration.diffusion_gpu_factors.get(gpu.id)
    if fitted is not None:
        return fitted
    return (gpu.max_power_w / c.REFERENCE_GPU_POWER_W) * (c.H100_PEAK_TFLOPS_BF16 / gpu.peak_tflops_bf16)


def decode_groups(gpu_count: int) -> float:
    """Groups of at most `LLM_FIT_MAX_GPUS` a replica decodes as (1 within one server): see decode_j_per_token."""
    return max(1.0, gpu_count / c.LLM_FIT_MAX_GPUS)


def decode_j_per_token(
    model: ModelSpec, gpu: GpuSpec, gpu_count: int, batch_size: float, calibration: Calibration
) -> float:
    """GPU energy per output token (J), the ML.ENERGY log-linear fit.

    The fit measured tensor-parallel replicas of up to `LLM_FIT_MAX_GPUS`. A larger replica is that many GPUs
    times n groups, one per server, each holding 1/n of the weights (its experts or its layers) and decoding for
    1/n of the streams: every group is a fitted replica, and the J per token of one is the J per token of all.
    """
    cal = calibration
    groups = decode_groups(gpu_count)
    log_e = (
        cal.llm_log_intercept
        + cal.llm_exp_active_params * math.log(model.active_params_b)
        + cal.llm_exp_weights_read * math.log(weights_read_gb(model, batch_size) / groups)
        + cal.llm_exp_batch * math.log(batch_size / groups)
        + cal.llm_exp_gpu_count * math.log(gpu_count / groups)
    )
    return math.exp(log_e) * llm_gpu_factor(gpu, cal)


def prefill_peak_tflops(model: ModelSpec, gpu: GpuSpec) -> float:
    """Tensor throughput prefill runs at: the 8-bit peak for 8-bit weights where the GPU has one, else 16-bit.

    8-bit serving (FP8 on Hopper/Blackwell, INT8 elsewhere) quantises activations too, so its matrix
    multiplications run on the 8-bit tensor cores; 4-bit weights are dequantised to 16 bits (W4A16) and run
    at the 16-bit peak.
    """
    if model.bytes_per_param == 1.0 and gpu.peak_tflops_8bit:
        return gpu.peak_tflops_8bit
    return gpu.peak_tflops_bf16


def prefill_mfu(model: ModelSpec, node: NodeSpec) -> float:
    """Model-FLOPs utilisation of prefill: a dense model's, or a mixture of experts' (fewer active than total
    parameters) on the node, whose figure depends on how loaded the node is (NodeSpec.prefill_mfu_moe)."""
    return node.prefill_mfu_moe if model.is_mixture_of_experts else c.PREFILL_MFU


def prefill_j_per_token(model: ModelSpec, node: NodeSpec, power_w: float) -> float:
    """GPU energy per input token (J): 2 x active params FLOPs at the prefill MFU, at the serving draw `power_w`."""
    flops = c.PREFILL_FLOPS_PER_PARAM * model.active_params_b * 1e9
    seconds_per_gpu = flops / (prefill_peak_tflops(model, node.gpu) * 1e12 * prefill_mfu(model, node))
    return seconds_per_gpu * power_w


def serving_j_per_token(
    model: ModelSpec, node: NodeSpec, gpu_count: int, batch_size: float, calibration: Calibration
) -> tuple[float, float, float]:
    """(decode J per output token, prefill J per computed input token, J per prompt token net of KV-cache hits).

    Where the fleet publishes its throughput, an accelerator's serving draw divided by its tokens per second (power
    at load / throughput at the operating point); else the ML.ENERGY fit at the replica's batch, and prefill at the
    prefill MFU. A prompt token found in the KV cache is read back, not recomputed; reading is taken as free, and a
    published prefill rate already counts the hits.
    """
    power_w = gpu_serving_power_w(node.gpu, calibration, node.serving_power_fraction)
    share = node.cached_input_share
    if node.decode_tokens_per_s_per_gpu is not None:
        decode_j = power_w / node.decode_tokens_per_s_per_gpu
    else:
        decode_j = decode_j_per_token(model, node.gpu, gpu_count, batch_size, calibration)
    if node.prefill_tokens_per_s_per_gpu is not None and share < 1.0:
        prompt_j = power_w / node.prefill_tokens_per_s_per_gpu
        return decode_j, prompt_j / (1.0 - share), prompt_j
    prefill_j = prefill_j_per_token(model, node, power_w)
    return decode_j, prefill_j, prefill_j * (1.0 - share)


def attention_width(model: ModelSpec) -> float:
    """layers x hidden of the denoiser: the catalog's, else the fit over published configs (constants.py)."""
    if model.denoiser_layers is not None and model.hidden_size is not None:
        return float(model.denoiser_layers * model.hidden_size)
    return c.DEFAULT_ATTENTION_WIDTH_COEF * math.pow(model.active_params_b, c.DEFAULT_ATTENTION_WIDTH_EXP)


def latent_frames(frames: float, temporal_compression: float) -> float:
    """Latent frames of a video: the first frame alone, then one per `temporal_compression` frames (causal 3D VAE).

    Continuous and increasing in `frames` (1 frame -> 1, 81 frames at 4 -> 21); an image is 1 frame.
    """
    if frames <= 1.0:
        return frames
    return 1.0 + (frames - 1.0) / temporal_compression


def diffusion_flops_coefficients(model: ModelSpec) -> tuple[float, float]:
    """(linear, quadratic): denoiser FLOPs per step = linear x X + quadratic x X^2, X = pixels x latent frames.

    Latent tokens T = X / f^2 (f = pixels per latent token side); one pass costs 2 x params x T + 4 x layers x
    hidden x T^2 (constants.py), and a step runs `guidance_passes` passes.
    """
    tokens_per_px = 1.0 / (model.px_per_latent_token * model.px_per_latent_token)
    passes = float(model.guidance_passes)
    linear = passes * c.DIFFUSION_FLOPS_PER_PARAM_TOKEN * model.active_params_b * 1e9 * tokens_per_px
    quadratic = 0.0
    if model.quadratic_attention:
        width = attention_width(model)
        quadratic = passes * c.DIFFUSION_ATTENTION_FLOPS_PER_LAYER_WIDTH_TOKEN2 * width * tokens_per_px * tokens_per_px
    return linear, quadratic


def diffusion_flops_per_step(model: ModelSpec, pixels: float, frames: float = 1.0) -> float:
    """Denoiser FLOPs of one denoising step of one output (`frames` = 1 for an image)."""
    linear, quadratic = diffusion_flops_coefficients(model)
    x = pixels * latent_frames(frames, model.temporal_compression)
    return linear * x + quadratic * x * x


def diffusion_j_per_step(gpu: GpuSpec, calibration: Calibration) -> float:
    """GPU energy (J) of one denoising step at 1 TFLOP per step; rows scale it by steps and FLOPs^exponent."""
    cal = calibration
    log_e = cal.diffusion_log_intercept + cal.diffusion_exp_batch * math.log(cal.diffusion_batch_size)
    return math.exp(log_e) * diffusion_gpu_factor(gpu, cal)


def training_per_request(training: TrainingSpec) -> Impacts:
    if training.lifetime_requests <= 0:
        return ZERO_IMPACTS
    n = training.lifetime_requests
    return Impacts(
        usage_energy_wh=training.usage_energy_kwh * c.WH_PER_KWH / n,
        usage_emissions_gco2e=training.usage_emissions_kgco2e * c.G_PER_KG / n,
        usage_water_ml=training.usage_water_l * c.ML_PER_L / n,
        embodied_emissions_gco2e=training.embodied_emissions_kgco2e * c.G_PER_KG / n,
        embodied_water_ml=training.embodied_water_l * c.ML_PER_L / n,
    )


def prepare(
    *, model: ModelSpec, node: NodeSpec, site: SiteSpec, training: TrainingSpec, calibration: Calibration
) -> Prepared:
    gpu = node.gpu
    gpu_count = serving_gpu_count(model, node)
    batch_size = node.streams_per_gpu * gpu_count
    decode_j, prefill_j, prompt_j = serving_j_per_token(model, node, gpu_count, batch_size, calibration)
    host_j, idle_j, node_s_per_j = it_parts_per_gpu_j(node, gpu_count, calibration)
    it_j = 1.0 + host_j + idle_j
    facility_wh, gco2e, water_ml = site_factors(site)
    it_kwh = it_j / c.J_PER_KWH  # IT kWh per GPU joule
    emb_g_per_s, emb_ml_per_s = embodied_per_node_second(node, gpu_count)
    flops_per_px, flops_per_px2 = diffusion_flops_coefficients(model)
    tflops_per_px, tflops_per_px2 = flops_per_px / c.TFLOP, flops_per_px2 / c.TFLOP
    return Prepared(
        gpu_count=gpu_count,
        batch_size=batch_size,
        decode_j_per_token=decode_j,
        prefill_j_per_token=prefill_j,
        prompt_j_per_token=prompt_j,
        diffusion_j_per_step=diffusion_j_per_step(gpu, calibration),
        diffusion_exp_flops=calibration.diffusion_exp_flops,
        diffusion_tflops_per_px=tflops_per_px,
        diffusion_tflops_per_px2=tflops_per_px2,
        temporal_compression=model.temporal_compression,
        default_steps=model.default_steps,
        default_image_pixels=float(model.default_width_px * model.default_height_px),
        usage_wh_per_gpu_j=it_j * facility_wh,
        usage_gco2e_per_gpu_j=it_j * gco2e,
        usage_water_ml_per_gpu_j=it_j * water_ml,
        # The servers' manufacturing for the request's machine time, and the site's building for its IT energy.
        embodied_gco2e_per_gpu_j=node_s_per_j * emb_g_per_s + it_kwh * site.embodied_gco2e_per_it_kwh,
        embodied_water_ml_per_gpu_j=node_s_per_j * emb_ml_per_s + it_kwh * site.embodied_water_ml_per_it_kwh,
        node_seconds_per_gpu_j=node_s_per_j,
        training=training_per_request(training),
        host_j_per_gpu_j=host_j,
        idle_j_per_gpu_j=idle_j,
        pue=site.pue,
        onsite_water_ml_per_gpu_j=it_kwh * site.wue_l_per_kwh * c.ML_PER_L,
        published_tokens_per_s_per_gpu=(node.decode_tokens_per_s_per_gpu, node.prefill_tokens_per_s_per_gpu),
        prefill_mfu=prefill_mfu(model, node),
    )


def usage_parts(p: Prepared, gpu_j: float) -> UsageParts:
    """The usage energy and water of a request of `gpu_j` GPU joules, in parts that add up to its estimate's."""
    to_wh = gpu_j / c.J_PER_WH
    it_wh = to_wh * (1.0 + p.host_j_per_gpu_j + p.idle_j_per_gpu_j)
    onsite = gpu_j * p.onsite_water_ml_per_gpu_j
    return UsageParts(
        accelerators_wh=to_wh,
        host_wh=to_wh * p.host_j_per_gpu_j,
        idle_reserve_wh=to_wh * p.idle_j_per_gpu_j,
        overhead_wh=it_wh * (p.pue - 1.0),
        onsite_water_ml=onsite,
        generation_water_ml=gpu_j * p.usage_water_ml_per_gpu_j - onsite,
    )


def _diffusion_j(p: Prepared, steps: int | None, x: float) -> float:
    """One output: steps x J per step at 1 TFLOP x (TFLOPs per step)^exponent; x = pixels x latent frames."""
    n_steps = steps if steps is not None else p.default_steps
    tflops = (p.diffusion_tflops_per_px + p.diffusion_tflops_per_px2 * x) * x
    return p.diffusion_j_per_step * n_steps * math.pow(tflops, p.diffusion_exp_flops)


def gpu_energy_j(p: Prepared, w: Workload) -> float:
    """GPU-only energy of the request (J): the quantity ML.ENERGY measures."""
    kind = w.kind
    image_tokens = w.input_image_pixels / c.PIXELS_PER_IMAGE_TOKEN
    if kind is TaskKind.TEXT:
        prompt = p.prompt_j_per_token * w.input_tokens + p.prefill_j_per_token * image_tokens
        return p.decode_j_per_token * w.output_tokens + prompt
    if kind is TaskKind.ENCODE:
        audio_positions = w.input_audio_s * c.AUDIO_ENCODER_POSITIONS_PER_S
        return p.prefill_j_per_token * (w.input_tokens + image_tokens + audio_positions)
    if kind is TaskKind.SPEECH_TO_TEXT:
        encoder_positions = w.input_audio_s * c.AUDIO_ENCODER_POSITIONS_PER_S + w.input_tokens
        transcript = w.input_audio_s * c.TRANSCRIPT_TOKENS_PER_AUDIO_S + w.output_tokens
        return p.prefill_j_per_token * encoder_positions + p.decode_j_per_token * transcript
    if kind is TaskKind.TEXT_TO_SPEECH:
        audio_tokens = w.output_audio_tokens
        if audio_tokens is None:
            audio_tokens = w.output_audio_s * c.AUDIO_TOKENS_PER_OUTPUT_S
        return p.prefill_j_per_token * w.input_tokens + p.decode_j_per_token * audio_tokens
    if kind is TaskKind.IMAGE:
        sizes = w.output_image_pixels or (p.default_image_pixels,)
        prompt = p.prefill_j_per_token * w.input_tokens
        return prompt + sum(_diffusion_j(p, w.steps, px) for px in sizes)
    # VIDEO: one diffusion over the latent frames of all output frames.
    x = w.video_frame_pixels * latent_frames(w.video_frames, p.temporal_compression)
    return p.prefill_j_per_token * w.input_tokens + _diffusion_j(p, w.steps, x)


def estimate(p: Prepared, w: Workload) -> tuple[Impacts, Impacts, float]:
    """(inference impacts, training impacts per request, GPU joules) of one request."""
    e = gpu_energy_j(p, w)
    inference = Impacts(
        usage_energy_wh=e * p.usage_wh_per_gpu_j,
        usage_emissions_gco2e=e * p.usage_gco2e_per_gpu_j,
        usage_water_ml=e * p.usage_water_ml_per_gpu_j,
        embodied_emissions_gco2e=e * p.embodied_gco2e_per_gpu_j,
        embodied_water_ml=e * p.embodied_water_ml_per_gpu_j,
    )
    return inference, p.training, e


def fit_scatter(p: Prepared, kind: TaskKind, calibration: Calibration) -> tuple[float, float]:
    """(low, high) ratio of the true GPU energy to the estimate's, from how far the measurements stray from the
    fit it comes from: the diffusion fit for images and videos, else the LLM fit; none where the fleet publishes
    its decode throughput (the accelerators' draw, already ranged, is then the unknown)."""
    cal = calibration
    if kind is TaskKind.IMAGE or kind is TaskKind.VIDEO:
        return cal.diffusion_fit_scatter_low, cal.diffusion_fit_scatter_high
    if p.published_tokens_per_s_per_gpu[0] is not None:
        return 1.0, 1.0
    return cal.llm_fit_scatter_low, cal.llm_fit_scatter_high


def _widened(mid: float, lo: float, hi: float, down2: float, up2: float) -> tuple[float, float]:
    """One figure's low and high; `down2`, `up2`: the squared logs of the scatter's ends (widen)."""
    if mid <= 0.0:
        return lo, hi
    d = math.log(mid / lo) if lo > 0.0 else math.inf
    u = math.log(hi / mid)
    return mid * math.exp(-math.sqrt(d * d + down2)), mid * math.exp(math.sqrt(u * u + up2))


def widen(central: float, low: float, high: float, scatter: tuple[float, float]) -> tuple[float, float]:
    """The low and high of a figure whose catalog ranges give `low` and `high`, widened by the fit's `scatter`.

    The two are independent (a catalog figure's range is not the fit's error), so their widths in logs add in
    quadrature: low = central x exp(-sqrt(ln(central / low)^2 + ln(scatter low)^2)), and so for high.
    """
    return _widened(central, low, high, math.log(scatter[0]) ** 2, math.log(scatter[1]) ** 2)


def widen_impacts(
    central: Impacts, low: Impacts, high: Impacts, scatter: tuple[float, float]
) -> tuple[Impacts, Impacts]:
    """`widen` on each of the five metrics, the scatter's logs taken once."""
    down2, up2 = math.log(scatter[0]) ** 2, math.log(scatter[1]) ** 2
    bounds = [_widened(mid, lo, hi, down2, up2) for mid, lo, hi in zip(central, low, high, strict=True)]
    return Impacts._make(b[0] for b in bounds), Impacts._make(b[1] for b in bounds)
