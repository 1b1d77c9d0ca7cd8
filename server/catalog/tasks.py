"""Which kind of compute each wire task is."""

from __future__ import annotations

from server.engine import TaskKind
from server.schemas.enums import VIDEO_TASKS

DEFAULT_TASK = "text-generation"

_ENCODE = {
    "text-embedding",
    "text-classification",
    "sentiment-analysis",
    "named-entity-recognition",
    "multimodal-embedding",
    "image-classification",
    "object-detection",
    "image-segmentation",
    "face-detection",
    "facial-recognition",
    "speaker-identification",
    "audio-classification",
    "clustering",
    "anomaly-detection",
    "recommendation-system",
    "time-series-forecasting",
}
_IMAGE = {"text-to-image", "image-generation", "style-transfer"}

TASK_KINDS: dict[str, TaskKind] = {
    **dict.fromkeys(_ENCODE, TaskKind.ENCODE),
    **dict.fromkeys(_IMAGE, TaskKind.IMAGE),
    **dict.fromkeys(VIDEO_TASKS, TaskKind.VIDEO),
    "speech-to-text": TaskKind.SPEECH_TO_TEXT,
    "text-to-speech": TaskKind.TEXT_TO_SPEECH,
    "music-generation": TaskKind.TEXT_TO_SPEECH,
}


def task_kind(task: str, *, is_diffusion_model: bool) -> TaskKind:
    kind = TASK_KINDS.get(task, TaskKind.TEXT)
    if task == "multimodal-generation" and is_diffusion_model:
        return TaskKind.VIDEO  # the catalog files video generators under multimodal-generation
    return kind
