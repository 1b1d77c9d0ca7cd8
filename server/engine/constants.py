"""Formula constants of the engine, each with where it comes from. Conversions are exact."""

J_PER_WH = 3600.0
J_PER_KWH = 3_600_000.0
ML_PER_L = 1000.0
G_PER_KG = 1000.0
WH_PER_KWH = 1000.0
SECONDS_PER_YEAR = 365.25 * 86400.0

# The median GPU draw while serving, as a fraction of TDP, is a fitted value: catalog/calibration.csv's
# `gpu_serving_power_fraction` (bench/derive_calibration.py), read into `Calibration`; no copy lives here.

# Dense BF16 peak of the reference GPU (REFERENCE_GPU_POWER_W's H100 SXM), the unmeasured-GPU diffusion factor's
# yardstick: NVIDIA H100 Tensor Core GPU datasheet, 1,979 TFLOPS BF16 with sparsity, halved and rounded down
# (catalog/gpus.csv's h100 row keeps 989.5; the engine's figures were fitted with 989).
H100_PEAK_TFLOPS_BF16 = 989.0

# Prefill is compute-bound: 2 x active parameters FLOPs per input token (Kaplan et al. 2020, "Scaling Laws
# for Neural Language Models", forward pass ~ 2N FLOPs/token), run at this model-FLOPs utilisation.
# Llama 3 reports 38-43 % MFU on H100 (Dubey et al. 2024, "The Llama 3 Herd of Models", table 4).
PREFILL_FLOPS_PER_PARAM = 2.0
PREFILL_MFU = 0.40

# A mixture-of-experts prefill runs at a lower utilisation than a dense one: each expert's matrices see only the
# tokens routed to it, and expert parallelism adds an all-to-all dispatch and combine in every layer. The one
# published production figure: DeepSeek's fleet prefills ~73.7k input tokens/s per H800 node, KV-cache hits
# included, with 56.3 % of its input tokens served from the cache (open-infra-index, "Day 6: DeepSeek-V3/R1
# Inference System Overview", 1 Mar 2025): 73,700 x (1 - 0.563) / 8 GPUs = 4,026 computed tokens/s per GPU,
# x 2 x 37 B active parameters = 298 TFLOP/s, 15.05 % of the H800's dense FP8 peak (1,979 TFLOPS, as H100).
# Counted as the engine counts prefill (2 x active parameters per token, attention within the utilisation).
PREFILL_MFU_MOE = 0.1505
# A saturated node, the low-energy end of a range: DeepSeek's profiled prefill, 62,713 input tokens/s per H800
# node at 4,096-token prompts and 16,384 tokens per GPU, "roughly twice" its production rate (DeepSeek's
# profile-data, as tabulated by the SGLang team, LMSYS blog, 5 May 2025): 62,713 / 8 x 2 x 37 B = 580 TFLOP/s,
# 29.3 % of the FP8 peak.
PREFILL_MFU_MOE_SATURATED = 0.293

# GPU count for weights: bytes x ~1.2 overhead (KV cache, activations, runtime) / GPU memory, rounded up to a
# power of two (METHODOLOGY.md "GPU count").
WEIGHTS_MEMORY_OVERHEAD = 1.2

# The largest replica the LLM fit measured: ML.ENERGY v3 ran its LLM configurations on 1, 2, 4 or 8 GPUs, tensor
# parallel within one 8-GPU server (../shared/reference/mlenergy-v3-llm.csv `num_gpus`). A replica on more GPUs
# spans servers, which split the model by experts or layers, not by tensor parallelism (DeepSeek's expert-parallel
# decode across 18 servers, open-infra-index Day 6; SGLang's across 9, LMSYS blog, 5 May 2025).
LLM_FIT_MAX_GPUS = 8

# Reference GPU of the LLM calibration (ML.ENERGY measurements are on H100 SXM and B200).
REFERENCE_GPU_POWER_W = 700.0  # H100 SXM TDP, NVIDIA H100 datasheet
REFERENCE_GPU_PERFORMANCE_RATIO = 3.35 / 4.8  # H100 SXM / H200 memory bandwidth, NVIDIA datasheets

# Concurrent decode streams per accelerator on hardware that no managed service describes (a rented instance,
# an inline node): 32, so that one GPU runs batch 32, mid-range of the batch sizes ML.ENERGY v3 measured
# (8-512, METHODOLOGY.md text models), and an 8-GPU replica runs 256, vLLM's default cap on concurrent
# sequences (`max_num_seqs`). Managed services state their own (managed_services.csv `streams_per_gpu`).
DEFAULT_STREAMS_PER_GPU = 32.0
# Its range, for an estimate's low and high: 8-64, a quarter to twice the value (assumption; ML.ENERGY v3
# measured 8-512 per configuration).
DEFAULT_STREAMS_PER_GPU_RANGE = (8.0, 64.0)
DEFAULT_UTILIZATION = 0.5  # assumption for a node that does not say: half its time serving
# Its range: mean utilisation of allocated GPUs ~40-59 % (Jeon et al., USENIX ATC 2019, Microsoft's Philly cluster).
DEFAULT_UTILIZATION_RANGE = (0.4, 0.6)
# Images or videos per diffusion batch, for an estimate's low and high: the range ML.ENERGY v3 measured (1-32
# per configuration; its median is calibration.csv's `diffusion_batch_size`).
DIFFUSION_BATCH_RANGE = (1.0, 32.0)
DEFAULT_USE_LIFE_YEARS = 5.0  # hyperscalers depreciate servers over 5-6 years (AWS, Alphabet, Microsoft 10-K)

# A datacenter's building and plant (its `embodied_emissions_kgco2e` / `embodied_water_l`) are shared over the
# IT energy the site delivers in its life: IT capacity x life x average load. A site that does not state them:
# a 20-year asset (the low end of the "20-25-year asset" data centres were commonly viewed as; HKS analysis
# published by Serverfarm, "The Greenest Data Center is the One That's Never Built") at 56 % of its capacity
# (451 Research 2015 enterprise data center survey: the average data centre is used at 56 % of its power
# capacity).
DATACENTER_USE_LIFE_YEARS = 20.0
DATACENTER_AVERAGE_LOAD = 0.56
HOURS_PER_YEAR = SECONDS_PER_YEAR / 3600.0
KW_PER_MW = 1000.0

# Speech: Whisper's encoder maps 30 s of audio to 1500 positions, i.e. 50 per second (Radford et al. 2022,
# "Robust Speech Recognition via Large-Scale Weak Supervision", section 2.2). Speech runs ~150 words/min
# (2.5 words/s) and English text ~1.3 tokens/word (OpenAI tokenizer guidance): ~3.3 transcript tokens/s.
AUDIO_ENCODER_POSITIONS_PER_S = 50.0
TRANSCRIPT_TOKENS_PER_AUDIO_S = 3.3

# Text-to-speech: neural codecs emit 50-75 audio tokens per second (EnCodec 24 kHz: 75 frames/s; Défossez et
# al. 2022, "High Fidelity Neural Audio Compression"); METHODOLOGY.md: ~50-75.
AUDIO_TOKENS_PER_OUTPUT_S = 75.0

# Vision inputs: one token per 28x28 pixels (14-px ViT patches merged 2x2; Wang et al. 2024, "Qwen2-VL").
PIXELS_PER_IMAGE_TOKEN = 28.0 * 28.0

# Video rows give lines (1080 for 1080p); width follows the 16:9 frame (METHODOLOGY.md).
VIDEO_ASPECT_RATIO = 16.0 / 9.0

# Bytes per parameter of each serving precision.
BYTES_PER_PARAM = {
    "fp8": 1.0,
    "fp8-e4m3": 1.0,
    "fp8-e5m2": 1.0,
    "bfloat8": 1.0,
    "int8": 1.0,
    "uint8": 1.0,
    "fp16": 2.0,
    "bfloat16": 2.0,
    "bf16": 2.0,
    "int16": 2.0,
    "uint16": 2.0,
    "tf32": 4.0,
    "fp32": 4.0,
    "int32": 4.0,
    "uint32": 4.0,
    "fp64": 8.0,
    "int64": 8.0,
    "uint64": 8.0,
    "int4": 0.5,
    "uint4": 0.5,
}
DEFAULT_BYTES_PER_PARAM = 2.0  # bfloat16, the usual published precision of open weights

# Diffusion: FLOPs of one denoiser pass over T latent tokens = 2 x params x T (every weight is one multiply-add
# per token: Kaplan et al. 2020, "Scaling Laws for Neural Language Models", forward pass ~ 2N FLOPs per token)
# + 4 x layers x hidden x T^2 (softmax attention: Q K^T and attention x V are each T^2 x hidden multiply-adds per
# layer; Hoffmann et al. 2022, "Training Compute-Optimal Large Language Models", appendix F, counts 2 x seq x
# key_size x heads FLOPs per token for each). Linear attention (SANA) has no T^2 term.
DIFFUSION_FLOPS_PER_PARAM_TOKEN = 2.0
DIFFUSION_ATTENTION_FLOPS_PER_LAYER_WIDTH_TOKEN2 = 4.0
TFLOP = 1e12

# Denoiser defaults for a catalog row that leaves its architecture blank (closed models):
# - 16 pixels per latent token side: an 8x VAE with 2x2 patches, the layout of SD3 (Esser et al. 2024, "Scaling
#   Rectified Flow Transformers"), FLUX.1, PixArt-Sigma, HunyuanDiT, Wan2.1, CogVideoX and HunyuanVideo (their
#   published configs, cited on each row of server/catalog/data/models/media.csv);
# - 4 video frames per latent frame: the causal 3D VAEs of Wan2.1 (vae_stride 4x8x8), HunyuanVideo and CogVideoX
#   (time_compressed_rate 4) (same rows);
# - 2 denoiser passes per step: classifier-free guidance runs a conditional and an unconditional pass (Ho &
#   Salimans 2022, "Classifier-Free Diffusion Guidance"); guidance-distilled models (FLUX.1 [dev]) run one.
DEFAULT_PX_PER_LATENT_TOKEN = 16.0
DEFAULT_TEMPORAL_COMPRESSION = 4.0
DEFAULT_GUIDANCE_PASSES = 2
# Attention width layers x hidden when a row leaves them blank: layers x hidden = COEF x (active params, B)^EXP,
# least squares on ln(layers x hidden) over the distinct (params, layers, hidden) of the
# server/catalog/data/models/media*.csv rows that give both (their published configs: 16 open DiTs from
# PixArt-Sigma 0.6B to Wan 14B; residual sd 0.17 in ln). The params are the weights a latent token passes
# through (`active_params_billions`: one stream of a dual-stream block, without the per-sample modulation), and
# the fitted EXP is near the 2/3 that transformer shape predicts (params ~ 12 x layers x hidden^2 at a fixed
# depth/width ratio).
# tests/test_catalog_data.py refits it on the catalog.
DEFAULT_ATTENTION_WIDTH_COEF = 42_000.0
DEFAULT_ATTENTION_WIDTH_EXP = 0.636
