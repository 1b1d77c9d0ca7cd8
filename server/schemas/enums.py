"""Enumerations of the Scope3 AI API (reference/scope3-aiapi.openapi.yaml), plus the video tasks its docs use."""

from __future__ import annotations

from typing import Literal, get_args

SpecTask = Literal[
    "text-generation",
    "chat",
    "text-embedding",
    "text-classification",
    "sentiment-analysis",
    "named-entity-recognition",
    "question-answering",
    "summarization",
    "translation",
    "image-classification",
    "object-detection",
    "image-segmentation",
    "image-generation",
    "image-to-text",
    "text-to-image",
    "style-transfer",
    "face-detection",
    "facial-recognition",
    "speech-to-text",
    "text-to-speech",
    "speaker-identification",
    "audio-classification",
    "music-generation",
    "multimodal-embedding",
    "multimodal-generation",
    "visual-question-answering",
    "recommendation-system",
    "reinforcement-learning",
    "anomaly-detection",
    "time-series-forecasting",
    "clustering",
]

# The quick starts list video tasks that the spec's Task enum lacks; rows may use them.
VideoTask = Literal[
    "text-to-video",
    "video-to-video",
    "video-upscaling",
    "frame-interpolation",
    "video-editing",
    "image-to-video",
]

RowTask = Literal[SpecTask, VideoTask]

DataType = Literal[
    "fp8",
    "fp8-e4m3",
    "fp8-e5m2",
    "fp16",
    "tf32",
    "fp32",
    "fp64",
    "bfloat8",
    "bfloat16",
    "bf16",
    "int4",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint4",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
]

SPEC_TASKS: frozenset[str] = frozenset(get_args(SpecTask))
VIDEO_TASKS: frozenset[str] = frozenset(get_args(VideoTask))
ROW_TASKS: frozenset[str] = SPEC_TASKS | VIDEO_TASKS
DATA_TYPES: frozenset[str] = frozenset(get_args(DataType))
