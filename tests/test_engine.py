"""The engine against values computed by hand (see each test's arithmetic)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from server.catalog.store import Catalog
from server.engine import (
    Calibration,
    GpuSpec,
    Impacts,
    ModelSpec,
    NodeSpec,
    SiteSpec,
    TaskKind,
    TrainingSpec,
    Workload,
    estimate,
    prepare,
    site_embodied_per_it_kwh,
    usage_parts,
)
from server.engine import constants as c
from server.engine.estimate import attention_width, diffusion_flops_per_step, widen, widen_impacts
from server.engine.hardware import gpus_for_weights

CAL = Calibration(
    llm_log_intercept=math.log(0.2),
    llm_exp_active_params=0.0,
    llm_exp_weights_read=0.0,
    llm_exp_batch=0.0,
    llm_exp_gpu_count=0.0,
    diffusion_log_intercept=math.log(2.0),  # 2 J per denoising step at 1 TFLOP per step
    diffusion_exp_flops=1.0,
    diffusion_batch_size=1.0,
    diffusion_exp_batch=0.0,
    gpu_serving_power_fraction=0.5,
    gpu_serving_power_fraction_low=0.4,
    gpu_serving_power_fraction_high=0.8,
    llm_gpu_factors={"ref": 1.0},
    diffusion_gpu_factors={"ref": 1.0},
)
GPU = GpuSpec(
    id="ref",
    max_power_w=1000.0,
    idle_power_w=100.0,
    memory_gb=80.0,
    peak_tflops_bf16=1000.0,
    performance_ratio_to_h200=1.0,
    embodied_emissions_kgco2e=200.0,
    embodied_water_ml=100_000.0,
    host_power_intercept_w=0.0,
    host_power_per_gpu_w=0.0,
)
NODE = NodeSpec(
    gpu=GPU,
    gpu_count=1,
    server_gpu_count=1,
    host_power_w_ex_gpu=250.0,
    average_utilization_rate=0.5,
    embodied_emissions_kgco2e_ex_gpu=1000.0,
    embodied_water_l_ex_gpu=0.0,
    use_life_years=2.0,
    streams_per_gpu=16.0,
)
SITE = SiteSpec(pue=1.5, wue_l_per_kwh=0.5, gco2e_per_kwh=400.0, grid_water_l_per_kwh=2.0)
MODEL = ModelSpec(total_params_b=10.0, active_params_b=10.0, bytes_per_param=2.0)


def test_text_request_by_hand() -> None:
    p = prepare(model=MODEL, node=NODE, site=SITE, training=TrainingSpec(), calibration=CAL)
    inference, training, gpu_j = estimate(p, Workload(TaskKind.TEXT, input_tokens=1000, output_tokens=100))
    # decode 0.2 J x 100 = 20 J; prefill 2 x 10e9 FLOPs / (1000e12 x 0.4 MFU) x (0.5 x 1000 W) = 0.025 J x 1000.
    assert gpu_j == pytest.approx(45.0)
    # 45 J at 500 W -> 0.09 s; host 250 W -> 22.5 J; idle (1/0.5 - 1) x 0.09 s x (250 + 100) W = 31.5 J.
    # IT 99 J x PUE 1.5 = 148.5 J = 0.04125 Wh.
    assert inference.usage_energy_wh == pytest.approx(0.04125)
    assert inference.usage_emissions_gco2e == pytest.approx(0.04125e-3 * 400)
    # water: 99 J IT x 0.5 L/kWh + 148.5 J x 2 L/kWh, in mL.
    assert inference.usage_water_ml == pytest.approx((99 / 3.6e6 * 0.5 + 148.5 / 3.6e6 * 2) * 1000)
    # embodied: (200 + 1000) kg over 2 years x 0.5 utilisation, for 0.09 s.
    life_s = 2 * 365.25 * 86400 * 0.5
    assert inference.embodied_emissions_gco2e == pytest.approx(1_200_000 * 0.09 / life_s)
    assert inference.embodied_water_ml == pytest.approx(100_000 * 0.09 / life_s)
    assert training.usage_energy_wh == 0.0


def test_usage_parts_by_hand_add_up_to_the_estimate() -> None:
    p = prepare(model=MODEL, node=NODE, site=SITE, training=TrainingSpec(), calibration=CAL)
    inference, _, gpu_j = estimate(p, Workload(TaskKind.TEXT, input_tokens=1000, output_tokens=100))
    parts = usage_parts(p, gpu_j)
    # The text request above: 45 J on the GPU, 22.5 J host, 31.5 J idle reserve; 99 J IT x (1.5 - 1) overhead.
    assert parts.accelerators_wh == pytest.approx(45 / 3600)
    assert parts.host_wh == pytest.approx(22.5 / 3600)
    assert parts.idle_reserve_wh == pytest.approx(31.5 / 3600)
    assert parts.overhead_wh == pytest.approx(49.5 / 3600)
    energy = parts.accelerators_wh + parts.host_wh + parts.idle_reserve_wh + parts.overhead_wh
    assert energy == pytest.approx(inference.usage_energy_wh, rel=1e-12)
    # Water: on site 99 J x 0.5 L/kWh; generating the electricity 148.5 J x 2 L/kWh.
    assert parts.onsite_water_ml == pytest.approx(99 / 3.6e6 * 0.5 * 1000)
    assert parts.generation_water_ml == pytest.approx(148.5 / 3.6e6 * 2 * 1000)
    assert parts.onsite_water_ml + parts.generation_water_ml == pytest.approx(inference.usage_water_ml, rel=1e-12)


def test_a_sites_building_is_shared_per_it_kwh_by_hand() -> None:
    # 4,500 t CO2e and 9,000 m3 of water for a 1 MW site over 20 years at 0.56 load:
    # 1,000 kW x 20 x 8,766 h x 0.56 = 98,179,200 IT kWh; 4.5e9 g / that = 45.834 g, 9e9 mL / that = 91.67 mL.
    life_it_kwh = 1000 * 20 * 365.25 * 24 * 0.56
    g_per_kwh, ml_per_kwh = site_embodied_per_it_kwh(4_500_000.0, 9_000_000.0, 1.0)
    assert life_it_kwh == pytest.approx(98_179_200.0)
    assert (g_per_kwh, ml_per_kwh) == (pytest.approx(4.5e9 / life_it_kwh), pytest.approx(9e9 / life_it_kwh))
    assert site_embodied_per_it_kwh(4_500_000.0, 0.0, 2.0, 10.0, 0.5)[0] == pytest.approx(4.5e9 / (2000 * 87660 * 0.5))
    # In an estimate: the text request of the test above draws 99 J of IT energy; its building's share is
    # 99 J / 3.6e6 J per kWh x 45.834 g, on top of the servers' manufacturing.
    site = replace(SITE, embodied_gco2e_per_it_kwh=g_per_kwh, embodied_water_ml_per_it_kwh=ml_per_kwh)
    work = Workload(TaskKind.TEXT, input_tokens=1000, output_tokens=100)
    bare, _, _ = estimate(prepare(model=MODEL, node=NODE, site=SITE, training=TrainingSpec(), calibration=CAL), work)
    built, _, _ = estimate(prepare(model=MODEL, node=NODE, site=site, training=TrainingSpec(), calibration=CAL), work)
    assert built.embodied_emissions_gco2e - bare.embodied_emissions_gco2e == pytest.approx(99 / 3.6e6 * g_per_kwh)
    assert built.embodied_water_ml - bare.embodied_water_ml == pytest.approx(99 / 3.6e6 * ml_per_kwh)
    assert (built.usage_energy_wh, built.usage_emissions_gco2e) == (bare.usage_energy_wh, bare.usage_emissions_gco2e)


def test_training_amortised_per_request() -> None:
    training = TrainingSpec(
        usage_energy_kwh=1000,
        usage_emissions_kgco2e=500,
        usage_water_l=2000,
        embodied_emissions_kgco2e=100,
        embodied_water_l=50,
        lifetime_requests=365 * 1000,
    )
    p = prepare(model=MODEL, node=NODE, site=SITE, training=training, calibration=CAL)
    _, per_request, _ = estimate(p, Workload(TaskKind.TEXT, output_tokens=1))
    assert per_request.usage_energy_wh == pytest.approx(1_000_000 / 365_000)
    assert per_request.usage_emissions_gco2e == pytest.approx(500_000 / 365_000)
    assert per_request.usage_water_ml == pytest.approx(2_000_000 / 365_000)
    assert per_request.embodied_emissions_gco2e == pytest.approx(100_000 / 365_000)
    assert per_request.embodied_water_ml == pytest.approx(50_000 / 365_000)


# A small DiT: 3 B params, 10 layers x 1000 hidden, 16 px per latent token, 4 frames per latent frame, CFG.
DIT = ModelSpec(
    total_params_b=3.0,
    active_params_b=3.0,
    bytes_per_param=2.0,
    default_steps=20,
    denoiser_layers=10,
    hidden_size=1000,
    px_per_latent_token=16.0,
    temporal_compression=4.0,
    guidance_passes=2,
)


def test_diffusion_image_by_hand() -> None:
    p = prepare(model=DIT, node=NODE, site=SITE, training=TrainingSpec(), calibration=CAL)
    _, _, gpu_j = estimate(p, Workload(TaskKind.IMAGE, output_image_pixels=(1024 * 1024,), steps=50))
    # 1024x1024 / 16^2 = 4096 tokens. One pass: 2 x 3e9 x 4096 = 2.4576e13 FLOPs (weights)
    # + 4 x 10 x 1000 x 4096^2 = 6.7108864e11 (attention) = 2.524708864e13; 2 passes = 50.49417728 TFLOPs.
    # 2 J x 50 steps x 50.49417728^1 = 5049.417728 J.
    assert gpu_j == pytest.approx(5049.417728)
    _, _, default_steps_j = estimate(p, Workload(TaskKind.IMAGE))  # one default 1024x1024 image, 20 steps
    assert default_steps_j == pytest.approx(2 * 20 * 50.49417728)
    # Two images, the second 512x512: 1024 tokens -> 2 x (2 x 3e9 x 1024 + 4e4 x 1024^2) = 12.37188608 TFLOPs.
    _, _, two_j = estimate(p, Workload(TaskKind.IMAGE, output_image_pixels=(1024 * 1024, 512 * 512), steps=50))
    assert two_j == pytest.approx(5049.417728 + 2 * 50 * 12.37188608)


def test_diffusion_exponent_batch_and_no_guidance() -> None:
    cal = replace(CAL, diffusion_exp_flops=0.5, diffusion_batch_size=4.0, diffusion_exp_batch=-0.5)
    distilled = replace(DIT, guidance_passes=1)
    p = prepare(model=distilled, node=NODE, site=SITE, training=TrainingSpec(), calibration=cal)
    _, _, gpu_j = estimate(p, Workload(TaskKind.IMAGE, output_image_pixels=(1024 * 1024,), steps=10))
    # One pass: 25.24708864 TFLOPs; 2 J x 4^-0.5 = 1 J per step at 1 TFLOP; 10 steps x 25.24708864^0.5.
    assert gpu_j == pytest.approx(10 * 5.024648111)


def test_linear_attention_has_no_quadratic_term() -> None:
    linear = replace(DIT, quadratic_attention=False, px_per_latent_token=32.0)
    p = prepare(model=linear, node=NODE, site=SITE, training=TrainingSpec(), calibration=CAL)
    _, _, gpu_j = estimate(p, Workload(TaskKind.IMAGE, output_image_pixels=(2048 * 2048,), steps=1))
    # 2048^2 / 32^2 = 4096 tokens; 2 passes x 2 x 3e9 x 4096 = 49.152 TFLOPs; 2 J x 1 step x 49.152.
    assert gpu_j == pytest.approx(98.304)


def test_video_is_diffusion_over_latent_frames() -> None:
    p = prepare(model=DIT, node=NODE, site=SITE, training=TrainingSpec(), calibration=CAL)
    _, _, gpu_j = estimate(p, Workload(TaskKind.VIDEO, video_frames=10, video_frame_pixels=1920 * 1080, steps=4))
    # 10 frames -> 1 + 9/4 = 3.25 latent frames; 1920 x 1080 / 256 = 8100 tokens per frame -> 26325 tokens.
    # One pass: 2 x 3e9 x 26325 = 1.5795e14 + 4 x 10 x 1000 x 26325^2 = 2.77202250e13 -> 1.85670225e14;
    # 2 passes = 371.34045 TFLOPs; 2 J x 4 steps x 371.34045 = 2970.7236 J.
    assert gpu_j == pytest.approx(2970.7236)


def test_flops_per_step_of_published_architectures(catalog: Catalog) -> None:
    """The FLOPs formula on two catalog models, from their published configs (server/catalog/data/models/media.csv)."""
    sd35m = catalog.models["stable_diffusion_3_5_medium"].spec
    # 2.5 B in all, 0.80 B of them in an image token's path (one stream of each joint block, no modulation).
    assert (sd35m.total_params_b, sd35m.active_params_b) == (2.5, 0.80)
    assert (sd35m.denoiser_layers, sd35m.hidden_size) == (24, 1536)
    assert (sd35m.px_per_latent_token, sd35m.guidance_passes, sd35m.quadratic_attention) == (16.0, 2, True)
    # 1024x1024: 64 x 64 = 4096 tokens. One pass: 2 x 0.80e9 x 4096 = 6,553,600,000,000
    # + 4 x 24 x 1536 x 4096^2 = 147,456 x 16,777,216 = 2,473,901,162,496 -> 9,027,501,162,496; x 2 passes.
    assert diffusion_flops_per_step(sd35m, 1024 * 1024) == pytest.approx(18_055_002_324_992)

    wan = catalog.models["wan2_1_t2v_1_3b"].spec
    assert (wan.active_params_b, wan.denoiser_layers, wan.hidden_size) == (1.3, 30, 1536)
    assert (wan.px_per_latent_token, wan.temporal_compression, wan.guidance_passes) == (16.0, 4.0, 2)
    # 832x480x81: 52 x 30 = 1560 tokens per latent frame, 1 + 80/4 = 21 latent frames -> 32,760 tokens.
    # One pass: 2 x 1.3e9 x 32,760 = 85,176,000,000,000 + 4 x 30 x 1536 x 32,760^2 = 184,320 x 1,073,217,600
    # = 197,815,467,264,000 -> 282,991,467,264,000; x 2 passes.
    assert diffusion_flops_per_step(wan, 832 * 480, 81) == pytest.approx(565_982_934_528_000)


def test_blank_architecture_takes_the_documented_defaults() -> None:
    closed = ModelSpec(total_params_b=5.0, active_params_b=5.0, bytes_per_param=2.0)
    # layers x hidden = 42,000 x 5^0.636 = 42,000 x 2.783203 = 116,894.5 (constants.py); 16 px per token, 2 passes.
    assert attention_width(closed) == pytest.approx(116_894.5, rel=1e-5)
    # 1024x1024 -> 4096 tokens: 2 x (2 x 5e9 x 4096 + 4 x 116,894.5 x 4096^2) = 2 x (4.096e13 + 7.844660e12).
    assert diffusion_flops_per_step(closed, 1024 * 1024) == pytest.approx(2 * (4.096e13 + 7.844660e12), rel=1e-5)


def test_speech_to_text_by_hand() -> None:
    p = prepare(model=MODEL, node=NODE, site=SITE, training=TrainingSpec(), calibration=CAL)
    _, _, gpu_j = estimate(p, Workload(TaskKind.SPEECH_TO_TEXT, input_audio_s=60))
    # 60 s -> 3000 encoder positions x 0.025 J + 198 transcript tokens x 0.2 J
    assert gpu_j == pytest.approx(3000 * 0.025 + 60 * 3.3 * 0.2)


def test_text_to_speech_from_seconds_or_tokens() -> None:
    p = prepare(model=MODEL, node=NODE, site=SITE, training=TrainingSpec(), calibration=CAL)
    _, _, from_seconds = estimate(p, Workload(TaskKind.TEXT_TO_SPEECH, output_audio_s=10))
    _, _, from_tokens = estimate(p, Workload(TaskKind.TEXT_TO_SPEECH, output_audio_tokens=750))
    assert from_seconds == pytest.approx(750 * 0.2) == from_tokens


def test_decode_scales_with_the_weights_a_step_reads() -> None:
    cal = replace(CAL, llm_exp_weights_read=0.5)
    # Dense 10 B at 16 bits reads 20 GB per step: 0.2 J x 20^0.5.
    dense = prepare(model=MODEL, node=NODE, site=SITE, training=TrainingSpec(), calibration=cal)
    assert dense.decode_j_per_token == pytest.approx(0.2 * 20**0.5)
    # fp8 halves the bytes: 10 GB.
    fp8 = ModelSpec(total_params_b=10.0, active_params_b=10.0, bytes_per_param=1.0)
    p = prepare(model=fp8, node=NODE, site=SITE, training=TrainingSpec(), calibration=cal)
    assert p.decode_j_per_token == pytest.approx(0.2 * 10**0.5)
    # MoE, 30 B total with 1 B active on one GPU at batch 16: the batch touches at most 16 B of weights -> 32 GB.
    moe = ModelSpec(total_params_b=30.0, active_params_b=1.0, bytes_per_param=2.0)
    p = prepare(model=moe, node=NODE, site=SITE, training=TrainingSpec(), calibration=cal)
    assert (p.gpu_count, p.batch_size) == (1, 16.0)
    assert p.decode_j_per_token == pytest.approx(0.2 * 32**0.5)


def test_a_replica_decodes_its_streams_per_gpu_times_its_gpus() -> None:
    cal = replace(CAL, llm_exp_batch=-0.5)
    one = prepare(model=MODEL, node=NODE, site=SITE, training=TrainingSpec(), calibration=cal)
    four = replace(NODE, gpu_count=4, server_gpu_count=4)
    p = prepare(model=MODEL, node=four, site=SITE, training=TrainingSpec(), calibration=cal)
    # 16 streams per GPU: batch 16 on one GPU, 64 on four; 0.2 J x batch^-0.5.
    assert (one.batch_size, p.batch_size) == (16.0, 64.0)
    assert one.decode_j_per_token == pytest.approx(0.2 / 4)
    assert p.decode_j_per_token == pytest.approx(0.2 / 8)


def test_a_replica_beyond_the_fitted_eight_gpus_decodes_as_groups_of_eight() -> None:
    # Fit: 0.2 J x (GB read)^0.5 x batch^-0.5 x GPUs^0.5. Dense 10 B at 16 bits reads 20 GB per step.
    cal = replace(CAL, llm_exp_weights_read=0.5, llm_exp_batch=-0.5, llm_exp_gpu_count=0.5)
    eight = replace(NODE, gpu_count=8, server_gpu_count=8)
    p8 = prepare(model=MODEL, node=eight, site=SITE, training=TrainingSpec(), calibration=cal)
    # 8 GPUs x 16 streams = batch 128: 0.2 x 20^0.5 x 128^-0.5 x 8^0.5 = 0.2 x (20 x 8 / 128)^0.5 = 0.2 x 1.25^0.5.
    assert (p8.gpu_count, p8.batch_size) == (8, 128.0)
    assert p8.decode_j_per_token == pytest.approx(0.2 * 1.25**0.5)
    # 32 GPUs (batch 512) are 4 groups of 8, each reading 5 GB for 128 streams: 0.2 x (5 x 8 / 128)^0.5.
    # Extrapolating the GPU term to 32 instead would give 0.2 x (20 x 32 / 512)^0.5, twice as much.
    p32 = prepare(model=MODEL, node=replace(eight, gpu_count=32), site=SITE, training=TrainingSpec(), calibration=cal)
    assert (p32.gpu_count, p32.batch_size) == (32, 512.0)
    assert p32.decode_j_per_token == pytest.approx(0.2 * (5 * 8 / 128) ** 0.5)


def test_prefill_runs_at_the_8_bit_peak_only_for_8_bit_weights() -> None:
    gpu = replace(GPU, peak_tflops_8bit=2000.0)
    node = replace(NODE, gpu=gpu)
    # 2 x 10e9 FLOPs / (peak x 0.4 MFU) x 500 W: 0.025 J at the 16-bit 1000 TFLOPS, 0.0125 J at 2000.
    expected = {1.0: 0.0125, 2.0: 0.025, 0.5: 0.025}  # fp8; bf16; int4 weights dequantised to 16 bits
    for bytes_per_param, joules in expected.items():
        model = replace(MODEL, bytes_per_param=bytes_per_param)
        p = prepare(model=model, node=node, site=SITE, training=TrainingSpec(), calibration=CAL)
        assert p.prefill_j_per_token == pytest.approx(joules), bytes_per_param
    fp8 = replace(MODEL, bytes_per_param=1.0)  # a GPU with no 8-bit figure runs it at the 16-bit peak
    p = prepare(model=fp8, node=NODE, site=SITE, training=TrainingSpec(), calibration=CAL)
    assert p.prefill_j_per_token == pytest.approx(0.025)


def test_a_mixture_of_experts_prefills_at_its_own_utilisation() -> None:
    # 10 B active of 100 B: 2 x 10e9 FLOPs / (1000e12 x 0.1505 MFU) x 500 W = 0.066445 J; dense at 0.4: 0.025 J.
    moe = replace(MODEL, total_params_b=100.0)
    p = prepare(model=moe, node=NODE, site=SITE, training=TrainingSpec(), calibration=CAL)
    assert p.prefill_j_per_token == pytest.approx(2 * 10e9 / (1000e12 * 0.1505) * 500.0)
    assert p.prefill_j_per_token == pytest.approx(0.066445, rel=1e-4)
    dense = prepare(model=MODEL, node=NODE, site=SITE, training=TrainingSpec(), calibration=CAL)
    assert dense.prefill_j_per_token == pytest.approx(0.025)


def test_the_moe_prefill_utilisation_is_deepseeks_published_fleet_rate() -> None:
    # open-infra-index Day 6: 73.7k input tokens/s per H800 node incl. cache hits, 56.3 % hits; 37 B active; the
    # H800's dense FP8 peak as the catalog's (1,979 TFLOPS).
    computed_per_gpu = 73_700 * (1 - 0.563) / 8
    mfu = computed_per_gpu * c.PREFILL_FLOPS_PER_PARAM * 37e9 / 1979e12
    assert mfu == pytest.approx(c.PREFILL_MFU_MOE, abs=5e-4)
    # A saturated node, the low end of a range: DeepSeek's profiled 62,713 input tokens/s per node.
    saturated = 62_713 / 8 * c.PREFILL_FLOPS_PER_PARAM * 37e9 / 1979e12
    assert saturated == pytest.approx(c.PREFILL_MFU_MOE_SATURATED, abs=5e-4)


def test_prompt_tokens_served_from_the_kv_cache_cost_no_prefill() -> None:
    node = replace(NODE, cached_input_share=0.6)
    p = prepare(model=MODEL, node=node, site=SITE, training=TrainingSpec(), calibration=CAL)
    _, _, gpu_j = estimate(p, Workload(TaskKind.TEXT, input_tokens=1000, output_tokens=100))
    # decode 0.2 x 100; 40 % of 1000 prompt tokens computed at 0.025 J.
    assert gpu_j == pytest.approx(20.0 + 400 * 0.025)
    # An image and an embedding input are not chat history: computed in full.
    _, _, image_j = estimate(p, Workload(TaskKind.TEXT, input_image_pixels=784.0 * 100))
    _, _, encode_j = estimate(p, Workload(TaskKind.ENCODE, input_tokens=1000))
    assert (image_j, encode_j) == (pytest.approx(100 * 0.025), pytest.approx(1000 * 0.025))


def test_a_published_throughput_is_the_draw_over_the_tokens_per_second() -> None:
    """A fleet publishing 1,000 output and 5,000 input (cache hits included) tokens/s per accelerator, drawing
    0.5 x 1,000 W: 0.5 J per output token and 0.1 J per prompt token; a computed input token (an image's, with
    half the prompt from cache) costs 0.1 / 0.5 = 0.2 J. The host's time follows the throughput, not the fit."""
    node = replace(
        NODE, decode_tokens_per_s_per_gpu=1000.0, prefill_tokens_per_s_per_gpu=5000.0, cached_input_share=0.5
    )
    p = prepare(model=MODEL, node=node, site=SITE, training=TrainingSpec(), calibration=CAL)
    assert (p.decode_j_per_token, p.prompt_j_per_token, p.prefill_j_per_token) == (
        pytest.approx(0.5),
        pytest.approx(0.1),
        pytest.approx(0.2),
    )
    _, _, gpu_j = estimate(p, Workload(TaskKind.TEXT, input_tokens=1000, output_tokens=100))
    assert gpu_j == pytest.approx(100 * 0.5 + 1000 * 0.1)
    # 150 J at 500 W is 0.3 s: 1,100 tokens at 1,000 and 5,000 per second; the host's 250 W for 0.3 s is 75 J.
    assert p.host_j_per_gpu_j * gpu_j == pytest.approx(75.0)
    # At 0.8 of the maximum draw the same throughput costs 0.8 / 0.5 as much, and the host's time is unchanged.
    hot = prepare(
        model=MODEL, node=replace(node, serving_power_fraction=0.8), site=SITE, training=TrainingSpec(), calibration=CAL
    )
    assert hot.decode_j_per_token == pytest.approx(0.8)
    assert hot.host_j_per_gpu_j * hot.decode_j_per_token == pytest.approx(p.host_j_per_gpu_j * p.decode_j_per_token)
    # Without a published prefill rate, prefill stays at the prefill MFU (0.025 J, as above), at the node's draw.
    decode_only = replace(node, prefill_tokens_per_s_per_gpu=None, serving_power_fraction=0.8)
    q = prepare(model=MODEL, node=decode_only, site=SITE, training=TrainingSpec(), calibration=CAL)
    assert q.prefill_j_per_token == pytest.approx(0.025 * 0.8 / 0.5)


def test_gpu_count_from_weights() -> None:
    # 70 B x 2 bytes x 1.2 = 168 GB on 80 GB GPUs -> 3 -> rounded up to 4.
    assert gpus_for_weights(ModelSpec(70.0, 70.0, 2.0), GPU) == 4
    assert gpus_for_weights(ModelSpec(8.0, 8.0, 2.0), GPU) == 1


def test_no_engine_constant_copies_a_fitted_value_of_the_calibration_file() -> None:
    """A fitted value lives in catalog/calibration.csv only (once, 0.71 in constants.py against 0.705 there)."""
    import csv

    from server.catalog.files import DEFAULT_CATALOG_DIR, load_calibration
    from server.engine import constants
    from server.engine.hardware import gpu_serving_power_w

    path = DEFAULT_CATALOG_DIR / "calibration.csv"
    with path.open(newline="") as file:
        rows = {row["name"]: float(row["value"]) for row in csv.DictReader(file)}
    assert "gpu_serving_power_fraction" in rows
    copies = [name for name in rows if name.split(".")[0].upper() in vars(constants)]
    assert not copies, f"constants.py repeats calibration.csv's {copies}"
    calibration = load_calibration(path)
    assert gpu_serving_power_w(GPU, calibration) == GPU.max_power_w * rows["gpu_serving_power_fraction"]


def test_a_range_widens_by_the_fits_scatter_in_quadrature() -> None:
    # Catalog ends at half and twice the estimate, fit scatter 0.5-2: ln 2 either way from each, so the answered
    # ends are 2^sqrt(2) = 2.665144 below and above: 10 / 2.665144 = 3.752142 and 26.65144.
    assert widen(10.0, 5.0, 20.0, (0.5, 2.0)) == pytest.approx((3.752142, 26.65144))
    # No catalog range: the fit's scatter alone. No scatter: the catalog's ends. A zero stays zero.
    assert widen(10.0, 10.0, 10.0, (0.7, 1.5)) == pytest.approx((7.0, 15.0))
    assert widen(10.0, 5.0, 20.0, (1.0, 1.0)) == pytest.approx((5.0, 20.0))
    assert widen(0.0, 0.0, 0.0, (0.7, 1.5)) == (0.0, 0.0)
    low, high = widen_impacts(
        Impacts(10.0, 1.0, 0.0, 2.0, 4.0),
        Impacts(5.0, 1.0, 0.0, 1.0, 4.0),
        Impacts(20.0, 1.0, 0.0, 4.0, 4.0),
        (0.5, 2.0),
    )
    assert low == pytest.approx(Impacts(3.752142, 0.5, 0.0, 0.7504284, 2.0))
    assert high == pytest.approx(Impacts(26.65144, 2.0, 0.0, 5.330288, 8.0))
