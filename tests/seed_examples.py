"""The example rows of the Scope3 AI API documents the product was created from (shared/seeds/).

Copied as test data so the suite never reads ../shared: quick start v1 and the /v1/impact reference (flat rows),
quick start v0 (nested `model{}` / `hosting{}` rows). Fragments that are not valid JSON in the documents
(the bare `{ {"input_tokens": 50, ...} }` snippets) are left out.
"""

from typing import Any

QUICKSTART_V1_ROWS: list[dict[str, Any]] = [
    {"model_id": "llama_v31_8b", "managed_service_id": "aws-bedrock", "node_id": "aws:p4d.24xlarge",
     "task": "text-generation", "input_tokens": 100, "output_tokens": 500},
    {"model_family": "llama", "model_name": "LLaMA v3.1 8B", "input_tokens": 100, "output_tokens": 500},
    {"model_id": "llama_v31_8b", "input_tokens": 100, "output_tokens": 500},
    {"model_hugging_face_path": "meta-llama/Llama-3.1-8B", "input_tokens": 100, "output_tokens": 500},
    {"model_id": "llama_v31_8b", "managed_service_id": "aws-bedrock", "input_tokens": 100, "output_tokens": 500},
    {"model_id": "llama_v31_8b", "node_id": "aws:p4d.24xlarge", "input_tokens": 100, "output_tokens": 500},
    {"model_id": "llama_v31_8b", "cloud_id": "aws", "cloud_instance_id": "p4d.24xlarge", "input_tokens": 100,
     "output_tokens": 500},
    {"model_id": "llama_v31_8b", "node_id": "aws:p4d.24xlarge", "task": "chat", "input_tokens": 150,
     "output_tokens": 300},
    {"model_id": "stable_diffusion_xl_base_1_0", "node_id": "aws:p4d.24xlarge", "task": "text-to-image",
     "input_tokens": 50, "output_images": ["1024x1024", "1024x1024"], "input_steps": 50},
    {"model_hugging_face_path": "openai/whisper-large-v3", "node_id": "aws:p4d.24xlarge",
     "task": "speech-to-text", "input_audio_duration_s": 240},
    {"model_family": "stablediffusion", "model_name": "SD-XL 1.0-base", "cloud_id": "aws",
     "cloud_instance_id": "p4d.24xlarge", "task": "text-to-video", "input_tokens": 75,
     "output_video_frames": 90, "output_video_resolution": 1080, "input_steps": 40},
    {"utc_datetime": "2024-01-01T12:00:00Z", "model_id": "llama_v31_8b", "cloud_id": "aws",
     "cloud_instance_id": "p4d.24xlarge", "task": "text-generation", "input_tokens": 100, "output_tokens": 500},
    {"requestTime": "2024-01-01T12:01:00Z", "model_family": "stablediffusion", "model_name": "SD-XL 1.0-base",
     "cloud_id": "aws", "cloud_instance_id": "p4d.24xlarge", "task": "text-to-image", "input_tokens": 50,
     "output_images": ["1024x1024"]},
]

# The /v1/impact reference's full example row (flat spec fields).
REFERENCE_IMPACT_ROW: dict[str, Any] = {
    "utc_datetime": "2022-01-01T00:00:00Z", "request_duration_ms": 283, "processing_duration_ms": 238,
    "request_cost": 0.18, "currency": "USD", "integration_source": "litellm", "environment": "staging",
    "session_id": "<string>", "trace_id": "<string>", "request_id": "<string>", "client_id": "<string>",
    "project_id": "<string>", "application_id": "<string>", "model_id": "llama_31_8b",
    "model_family": "llama", "model_name": "LLaMa v3.1 8B", "model_hugging_face_path": "meta/llama31_8b",
    "model_used_id": "llama_31_8b_0125", "base_url": "https://openrouter.ai/api/v1/chat/completions",
    "cloud_region": "us-east-1", "managed_service_id": "aws-bedrock", "cloud_id": "aws",
    "cloud_instance_id": "p4d.24xlarge", "node_id": "aws:p4d.24xlarge",
    "datacenter_id": "550e8400-e29b-41d4-a716-446655440000", "country": "US", "region": "NY",
    "task": "text-generation", "input_tokens": 128, "input_audio_seconds": 60, "output_tokens": 128,
    "input_images": ["1024x1024"], "input_steps": 50, "output_images": ["1024x1024"],
    "output_audio_seconds": 60, "output_audio_tokens": 2300, "output_video_frames": 60,
    "output_video_resolution": 1080,
}

QUICKSTART_V0_ROWS: list[dict[str, Any]] = [
    {"model": {"family": "claude (new)", "name": "3.5 Sonnet"}, "hosting": {"service": "aws-bedrock"},
     "task": "text-generation", "input_tokens": 100, "output_tokens": 500},
    {"model": {"family": "gpt", "name": "GPT-4 Turbo Preview"}, "input_tokens": 100, "output_tokens": 500},
    {"model": {"id": "llama_31_8b"}, "input_tokens": 100, "output_tokens": 500},
    {"model": {"hugging_face_path": "microsoft/OmniParser"}, "task": "object-detection",
     "input_images": ["1024x1024"]},
    {"model": {"id": "llama_31_8b"}, "hosting": {"service": "aws-bedrock"}, "input_tokens": 100,
     "output_tokens": 500},
    {"model": {"id": "llama_31_8b"}, "hosting": {"cloud": "aws", "instance": "p4d.24xlarge",
                                                 "utilization_pct": 0.8},
     "input_tokens": 100, "output_tokens": 500},
    {"model": {"id": "llama_31_8b"}, "hosting": {
        "country": "US", "region": "NY", "gpu": "a100", "gpu_count": 8, "cpu_count": 2,
        "idle_power_w_ex_gpu": 100, "average_utilization_rate": 0.8, "embodied_emissions_kgco2e_ex_gpu": 2500},
     "input_tokens": 100, "output_tokens": 500},
    {"model": {"family": "gpt", "model": "GPT-4"}, "task": "chat", "input_tokens": 150, "output_tokens": 300},
    {"model": {"family": "openai", "name": "DALL-E 3"}, "hosting": {"service": "azure-ml"},
     "task": "text-to-image", "input_tokens": 50, "output_images": ["1024x1024", "1024x1024"],
     "input_steps": 50},
    {"model": {"family": "openai", "name": "whisper-1"}, "task": "speech-to-text",
     "input_audio_duration_s": 240},
    {"model": {"family": "stable-diffusion", "name": "Stable Video XL"},
     "hosting": {"cloud": "gcp", "instance": "a2-highgpu-8g"}, "task": "text-to-video", "input_tokens": 75,
     "output_video_frames": 90, "output_video_resolution": 1080, "input_steps": 40},
    {"requestTime": "2024-01-01T12:00:00Z", "model": {"family": "claude", "name": "3.5 Sonnet"},
     "hosting": {"service": "aws-bedrock"}, "task": "text-generation", "input_tokens": 100, "output_tokens": 500},
    {"requestTime": "2024-01-01T12:01:00Z", "model": {"family": "stable-diffusion", "model": "Stable Diffusion XL"},
     "hosting": {"cloud": "aws", "instance": "p4d.24xlarge", "utilization_pct": 0.8}, "task": "text-to-image",
     "input_tokens": 50, "output_images": ["1024x1024"]},
]
