"""No silent fields: every field an impact row accepts changes the estimate, or is documented as metadata.

`ESTIMATE_PROBES` gives, for each field that is not metadata, a row and the same row with that field changed; the
two must estimate differently. A field added to `ImpactRow` that is in neither list fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

from server.catalog.store import Catalog
from server.pipeline.run import Pipeline
from server.schemas.impact import METADATA_FIELDS, ImpactRow

TEXT = {"model_id": "llama_31_8b", "input_tokens": 1000, "output_tokens": 500}
INLINE = {**TEXT, "hosting": {"gpu": "h100", "gpu_count": 1}}
IMAGE = {"model_id": "flux_2_dev", "output_images": ["1024x1024"]}
VIDEO = {"model_id": "cogvideox1_5_5b", "output_video_frames": 49}
SPEECH = {"model_id": "whisper-1", "input_audio_seconds": 60}
VOICE = {"model_id": "tts-1", "output_audio_seconds": 10}

# field -> (row, the same row with that field set or changed)
ESTIMATE_PROBES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # A year makes it that year's grid of the place, in place of a cloud region's own current figure.
    "utc_datetime": (
        {**TEXT, "cloud_region": "europe-west4"},
        {**TEXT, "cloud_region": "europe-west4", "utc_datetime": "2024-06-01T00:00:00Z"},
    ),
    "model_id": (TEXT, {**TEXT, "model_id": "llama_31_70b"}),
    # The same name in two families: "8B" is Qwen3's in qwen3, and no llama's (`3.1 8B` is).
    "model_family": (
        {**TEXT, "model_id": None, "model_name": "3.1 8B", "model_family": "llama"},
        {**TEXT, "model_id": None, "model_name": "8B", "model_family": "qwen3"},
    ),
    "model_name": (
        {**TEXT, "model_id": None, "model_name": "gpt-4o"},
        {**TEXT, "model_id": None, "model_name": "gpt-4o-mini"},
    ),
    "model_hugging_face_path": (
        {**TEXT, "model_id": None, "model_hugging_face_path": "meta-llama/Llama-3.1-8B"},
        {**TEXT, "model_id": None, "model_hugging_face_path": "meta-llama/Llama-3.1-70B"},
    ),
    "cloud_region": (TEXT, {**TEXT, "cloud_region": "europe-north1"}),
    "managed_service_id": (TEXT, {**TEXT, "managed_service_id": "aws-sagemaker"}),
    "cloud_id": (INLINE, {**INLINE, "cloud_id": "gcp"}),
    "cloud_instance_id": (TEXT, {**TEXT, "cloud_id": "aws", "cloud_instance_id": "p4d.24xlarge"}),
    "node_id": (TEXT, {**TEXT, "node_id": "aws-p5-48xlarge"}),
    "datacenter_id": (TEXT, {**TEXT, "datacenter_id": "gcp-europe-north1"}),
    "country": (TEXT, {**TEXT, "country": "PL"}),
    "region": ({**TEXT, "country": "US"}, {**TEXT, "country": "US", "region": "WV"}),
    "task": (
        {**TEXT, "model_id": "qwen3-embedding-8b"},
        {**TEXT, "model_id": "qwen3-embedding-8b", "task": "text-generation"},
    ),
    "input_tokens": (TEXT, {**TEXT, "input_tokens": 5000}),
    "output_tokens": (TEXT, {**TEXT, "output_tokens": 50}),
    "input_audio_seconds": (SPEECH, {**SPEECH, "input_audio_seconds": 600}),
    "input_images": (TEXT, {**TEXT, "input_images": ["1024x1024"]}),
    "input_steps": (IMAGE, {**IMAGE, "input_steps": 4}),
    "output_images": (IMAGE, {**IMAGE, "output_images": ["1024x1024", "1024x1024"]}),
    "output_audio_seconds": (VOICE, {**VOICE, "output_audio_seconds": 60}),
    "output_audio_tokens": (VOICE, {**VOICE, "output_audio_tokens": 3000}),
    "output_video_frames": (VIDEO, {**VIDEO, "output_video_frames": 97}),
    "output_video_resolution": (VIDEO, {**VIDEO, "output_video_resolution": 480}),
    "hosting": (TEXT, INLINE),
}


def test_every_field_is_an_estimate_field_or_documented_metadata() -> None:
    fields = set(ImpactRow.model_fields)
    neither = fields - set(ESTIMATE_PROBES) - set(METADATA_FIELDS)
    assert not neither, f"fields neither used by the estimate nor documented as metadata: {sorted(neither)}"
    assert not set(ESTIMATE_PROBES) & set(METADATA_FIELDS)
    assert set(ESTIMATE_PROBES) | set(METADATA_FIELDS) == fields  # no stale names either


@pytest.mark.parametrize("field", sorted(ESTIMATE_PROBES))
def test_each_estimate_field_changes_the_estimate(catalog: Catalog, field: str) -> None:
    before, after = ESTIMATE_PROBES[field]
    assert field in after and after.get(field) != before.get(field)
    pipeline = Pipeline(catalog)
    results = [
        pipeline.run_row(ImpactRow.model_validate({k: v for k, v in row.items() if v is not None}))
        for row in (before, after)
    ]
    for row, result in zip((before, after), results, strict=True):
        assert result.error is None, (row, result.error.to_wire())
    first, second = (result.total for result in results)
    assert first != second, f"{field} did not change the estimate"


@pytest.mark.parametrize("field", sorted(METADATA_FIELDS))
def test_metadata_is_accepted_and_leaves_the_estimate_as_it_is(catalog: Catalog, field: str) -> None:
    annotation = ImpactRow.model_fields[field].annotation
    value: Any = 12.5 if "float" in str(annotation) else "abc-123"
    pipeline = Pipeline(catalog)
    plain = pipeline.run_row(ImpactRow.model_validate(TEXT))
    tagged = pipeline.run_row(ImpactRow.model_validate({**TEXT, field: value}))
    assert tagged.error is None and tagged.total == plain.total
    assert METADATA_FIELDS[field]  # documented
