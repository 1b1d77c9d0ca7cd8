"""The line formats of batch usage files: detection, conversion to impact-row fields, and the errors users read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, get_args, get_origin

import orjson
import pytest

from server.batch.formats import (
    CSV_FIELDS,
    BlankRow,
    Converted,
    FormatError,
    LineError,
    LineFormat,
    convert_csv,
    convert_jsonl,
    detect_csv,
    detect_jsonl,
)
from server.schemas.impact import COUNT_FIELDS, NUMBER_FIELDS, ImpactRow


def jsonl(data: dict[str, Any]) -> bytes:
    return orjson.dumps(data)


# OpenAI batch output lines, shaped as the Batch API guide and the endpoints' reference answers show them.
CHAT_LINE = jsonl(
    {
        "id": "batch_req_6604b7c2b2908190b0f6f4ec1a1a1a1a",
        "custom_id": "request-2",
        "response": {
            "status_code": 200,
            "request_id": "req_c187b3e3b1dcd5e6b4ad16e8b1a1a1a1",
            "body": {
                "id": "chatcmpl-96ZRxB6Cq9lJgJ8mHh9Z1Z1Z1Z1Z1",
                "object": "chat.completion",
                "created": 1711652795,
                "model": "gpt-4o-mini-2024-07-18",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "Hello! How can I help you today?"},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": 22,
                    "completion_tokens": 9,
                    "total_tokens": 31,
                    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
                },
                "system_fingerprint": "fp_0ba0d124f1",
            },
        },
        "error": None,
    }
)
EMBEDDING_LINE = jsonl(
    {
        "id": "batch_req_6604b7c2b2908190b0f6f4ec2b2b2b2b",
        "custom_id": "embed-17",
        "response": {
            "status_code": 200,
            "request_id": "req_9a1b5f0c3e7d4a2b8c6d0e1f2a3b4c5d",
            "body": {
                "object": "list",
                "data": [{"object": "embedding", "index": 0, "embedding": [0.0023064255, -0.009327292, 0.015797347]}],
                "model": "text-embedding-3-small",
                "usage": {"prompt_tokens": 8, "total_tokens": 8},
            },
        },
        "error": None,
    }
)
EXPIRED_LINE = jsonl(
    {
        "id": "batch_req_6604b7c2b2908190b0f6f4ec3c3c3c3c",
        "custom_id": "request-3",
        "response": None,
        "error": {
            "code": "batch_expired",
            "message": "This request could not be executed before the completion window expired.",
        },
    }
)
RATE_LIMITED_LINE = jsonl(
    {
        "id": "batch_req_6604b7c2b2908190b0f6f4ec4d4d4d4d",
        "custom_id": "request-4",
        "response": {
            "status_code": 429,
            "request_id": "req_0f9e8d7c6b5a49382716a5b4c3d2e1f0",
            "body": {
                "error": {
                    "message": "Rate limit reached for gpt-4o-mini in organization org-abc on tokens per min (TPM): "
                    "Limit 200000, Used 199850, Requested 420. Please try again in 81ms.",
                    "type": "tokens",
                    "param": None,
                    "code": "rate_limit_exceeded",
                }
            },
        },
        "error": None,
    }
)
RESPONSES_API_LINE = jsonl(
    {
        "id": "batch_req_67cc0b1f9a6c8190a3bd5e5e5e5e5e5e",
        "custom_id": "resp-1",
        "response": {
            "status_code": 200,
            "request_id": "req_5d6e7f8091a2b3c4d5e6f708192a3b4c",
            "body": {
                "id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
                "object": "response",
                "created_at": 1741476542,
                "status": "completed",
                "model": "gpt-4.1-2025-04-14",
                "output": [
                    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hi"}]}
                ],
                "usage": {
                    "input_tokens": 36,
                    "input_tokens_details": {"cached_tokens": 0},
                    "output_tokens": 87,
                    "output_tokens_details": {"reasoning_tokens": 0},
                    "total_tokens": 123,
                },
            },
        },
        "error": None,
    }
)
REQUEST_LINE = jsonl(
    {
        "custom_id": "request-1",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "Hello world!"}],
            "max_tokens": 1000,
        },
    }
)

# The Exosphere seed's objects, with the model the request named.
PROVIDER_LINE = jsonl(
    {
        "model": "openai:gpt-4o",
        "usage": {"input_tokens": 10, "output_tokens": 11, "price_factor": 0.3},
        "key": "object-1",
    }
)
FLAT_ROW_LINE = jsonl({"model_id": "gpt-4o", "input_tokens": 100, "output_tokens": 25, "request_id": "r-0001"})
NESTED_ROW_LINE = jsonl(
    {
        "model": {"id": "llama_31_8b"},
        "hosting": {"cloud": "aws", "cloud_region": "us-east-1"},
        "task": "text-generation",
        "input_tokens": 100,
    }
)


@pytest.mark.parametrize(
    ("first_line", "expected"),
    [
        (CHAT_LINE, LineFormat.OPENAI_BATCH),
        (EMBEDDING_LINE, LineFormat.OPENAI_BATCH),
        (EXPIRED_LINE, LineFormat.OPENAI_BATCH),
        (RATE_LIMITED_LINE, LineFormat.OPENAI_BATCH),
        (PROVIDER_LINE, LineFormat.PROVIDER_USAGE),
        (FLAT_ROW_LINE, LineFormat.IMPACT_ROWS),
        (NESTED_ROW_LINE, LineFormat.IMPACT_ROWS),
        (b"\xef\xbb\xbf" + FLAT_ROW_LINE, LineFormat.IMPACT_ROWS),
    ],
    ids=["chat", "embeddings", "expired", "rate-limited", "provider", "flat-row", "nested-row", "bom"],
)
def test_detect_jsonl_tells_each_format_from_its_first_line(first_line: bytes, expected: LineFormat) -> None:
    assert detect_jsonl(first_line) is expected


@pytest.mark.parametrize(
    ("first_line", "message"),
    [
        (b"[1, 2, 3]", "the first line is an array, not a JSON object: put one object on each line"),
        (REQUEST_LINE, "the first line is a batch request, not its result: upload the batch's output file"),
    ],
    ids=["array", "batch-request"],
)
def test_detect_jsonl_rejects_files_it_cannot_read(first_line: bytes, message: str) -> None:
    with pytest.raises(FormatError) as raised:
        detect_jsonl(first_line)
    assert raised.value.message == message


def test_detect_jsonl_says_a_csv_line_is_not_json() -> None:
    with pytest.raises(FormatError) as raised:
        detect_jsonl(b"model_id,input_tokens,output_tokens")
    assert raised.value.message.startswith("the first line is not JSON (")


def test_openai_chat_completion_line_maps_model_usage_and_created() -> None:
    converted = convert_jsonl(LineFormat.OPENAI_BATCH, CHAT_LINE)
    # 1711652795 s after the epoch is 2024-03-28 19:06:35 UTC.
    assert converted == Converted(
        row={
            "model_id": "gpt-4o-mini-2024-07-18",
            "task": "text-generation",
            "input_tokens": 22,
            "output_tokens": 9,
            "utc_datetime": "2024-03-28T19:06:35Z",
        },
        key="request-2",
    )
    assert ImpactRow.model_validate(converted.row).utc_datetime == datetime(2024, 3, 28, 19, 6, 35, tzinfo=UTC)


def test_openai_embeddings_line_is_a_text_embedding_without_output_tokens() -> None:
    assert convert_jsonl(LineFormat.OPENAI_BATCH, EMBEDDING_LINE) == Converted(
        row={"model_id": "text-embedding-3-small", "task": "text-embedding", "input_tokens": 8}, key="embed-17"
    )


def test_openai_responses_api_line_uses_its_usage_names_and_created_at() -> None:
    assert convert_jsonl(LineFormat.OPENAI_BATCH, RESPONSES_API_LINE) == Converted(
        row={
            "model_id": "gpt-4.1-2025-04-14",
            "task": "text-generation",
            "input_tokens": 36,
            "output_tokens": 87,
            "utc_datetime": "2025-03-08T23:29:02Z",
        },
        key="resp-1",
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # The response itself carries model and usage (no body); a fractional created is floored.
        (
            {
                "custom_id": "c-1",
                "response": {
                    "model": "openai:gpt-4o",
                    "created": 1711652795.9,
                    "usage": {"prompt_tokens": 5, "completion_tokens": 7},
                },
            },
            {
                "model_id": "openai:gpt-4o",
                "task": "text-generation",
                "input_tokens": 5,
                "output_tokens": 7,
                "utc_datetime": "2024-03-28T19:06:35Z",
            },
        ),
        # Usage at the top level beside the model.
        (
            {"custom_id": "c-2", "model": "gpt-4o-mini", "usage": {"prompt_tokens": 3, "completion_tokens": 4}},
            {"model_id": "gpt-4o-mini", "task": "text-generation", "input_tokens": 3, "output_tokens": 4},
        ),
        # The request's url decides the task, though the usage reports zero completion tokens.
        (
            {
                "custom_id": "c-3",
                "url": "/v1/embeddings",
                "response": {
                    "status_code": 200,
                    "body": {"model": "text-embedding-3-large", "usage": {"prompt_tokens": 12, "completion_tokens": 0}},
                },
            },
            {"model_id": "text-embedding-3-large", "task": "text-embedding", "input_tokens": 12, "output_tokens": 0},
        ),
    ],
)
def test_openai_lines_in_other_shapes(line: dict[str, Any], expected: dict[str, Any]) -> None:
    converted = convert_jsonl(LineFormat.OPENAI_BATCH, jsonl(line))
    assert converted.row == expected
    assert converted.key == line["custom_id"]


@pytest.mark.parametrize(
    ("line", "message", "field", "key"),
    [
        (
            EXPIRED_LINE,
            "the request failed (batch_expired: This request could not be executed before the completion window "
            "expired.)",
            "error",
            "request-3",
        ),
        (
            RATE_LIMITED_LINE,
            # The provider's reason is clipped to 100 characters.
            "the request failed (status 429: Rate limit reached for gpt-4o-mini in organization org-abc on tokens "
            "per min (TPM): Lim…)",
            "response.status_code",
            "request-4",
        ),
        (
            jsonl({"custom_id": "r-5", "response": {"status_code": 500, "body": {}}, "error": None}),
            "the request failed (status 500)",
            "response.status_code",
            "r-5",
        ),
        (
            jsonl({"custom_id": "r-6", "response": {"status_code": 200, "body": {"model": "gpt-4o"}}, "error": None}),
            "no usage in this line (usage.prompt_tokens)",
            "usage",
            "r-6",
        ),
        (
            jsonl({"custom_id": "r-7", "response": {"body": {"model": "gpt-4o", "usage": {"total_tokens": 9}}}}),
            "usage has no prompt_tokens",
            "usage.prompt_tokens",
            "r-7",
        ),
        (
            jsonl({"custom_id": "r-8", "response": {"body": {"usage": {"prompt_tokens": 9}}}}),
            "no model in this line (response.body.model)",
            "model",
            "r-8",
        ),
        (
            jsonl({"response": {"body": {"model": "m", "created": "yesterday", "usage": {"prompt_tokens": 1}}}}),
            "created is not a unix time: 'yesterday'",
            "created",
            None,
        ),
    ],
    ids=["expired", "rate-limited", "status-500", "no-usage", "no-prompt-tokens", "no-model", "bad-created"],
)
def test_openai_line_errors_name_the_reason_the_field_and_the_key(
    line: bytes, message: str, field: str, key: str | None
) -> None:
    with pytest.raises(LineError) as raised:
        convert_jsonl(LineFormat.OPENAI_BATCH, line)
    assert (raised.value.message, raised.value.field, raised.value.key) == (message, field, key)


def test_provider_usage_line_keeps_provider_model_and_drops_price_factor() -> None:
    assert convert_jsonl(LineFormat.PROVIDER_USAGE, PROVIDER_LINE) == Converted(
        row={"model_id": "openai:gpt-4o", "input_tokens": 10, "output_tokens": 11}, key="object-1"
    )


def test_provider_usage_line_takes_object_id_and_openai_usage_names() -> None:
    line = {
        "object_id": "63bb0b28-edfe-4f5b-9e05-9232f63d76ec",
        "status": "completed",
        "model": "deepseek:r1-32b",
        "usage": {"prompt_tokens": 40, "completion_tokens": 310},
        "error": None,
        "output": {"type": "text", "text": "Hey user, I am doing great! How about you?"},
    }
    assert convert_jsonl(LineFormat.PROVIDER_USAGE, jsonl(line)) == Converted(
        row={"model_id": "deepseek:r1-32b", "input_tokens": 40, "output_tokens": 310},
        key="63bb0b28-edfe-4f5b-9e05-9232f63d76ec",
    )


@pytest.mark.parametrize(
    ("line", "message", "field"),
    [
        (
            {"object_id": "o-2", "status": "submitted", "model": "openai:gpt-4o", "usage": {"input_tokens": 10}},
            "not finished yet (status submitted)",
            "status",
        ),
        (
            {"key": "o-2", "model": "openai:gpt-4o", "usage": {}, "error": {"message": "model overloaded"}},
            "the request failed (model overloaded)",
            "error",
        ),
        ({"key": "o-2", "model": "openai:gpt-4o"}, "no usage in this line (usage.input_tokens)", "usage"),
        ({"key": "o-2", "usage": {"input_tokens": 1}}, "no model in this line", "model"),
        (
            {"key": "o-2", "model": "openai:gpt-4o", "usage": {"price_factor": 0.5}},
            "usage has no input_tokens",
            "usage.input_tokens",
        ),
    ],
)
def test_provider_usage_line_errors(line: dict[str, Any], message: str, field: str) -> None:
    with pytest.raises(LineError) as raised:
        convert_jsonl(LineFormat.PROVIDER_USAGE, jsonl(line))
    assert (raised.value.message, raised.value.field, raised.value.key) == (message, field, "o-2")


def test_impact_rows_pass_through_unchanged_and_fold_in_impact_row() -> None:
    flat = convert_jsonl(LineFormat.IMPACT_ROWS, FLAT_ROW_LINE)
    assert flat == Converted(
        row={"model_id": "gpt-4o", "input_tokens": 100, "output_tokens": 25, "request_id": "r-0001"}, key="r-0001"
    )
    nested = convert_jsonl(LineFormat.IMPACT_ROWS, NESTED_ROW_LINE)
    assert nested.row == orjson.loads(NESTED_ROW_LINE)
    assert nested.key is None
    folded = ImpactRow.model_validate(nested.row)
    assert (folded.model_id, folded.cloud_id, folded.cloud_region) == ("llama_31_8b", "aws", "us-east-1")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"[1, 2]", "not a JSON object: an array"),
        (b'"gpt-4o"', "not a JSON object: a string"),
        (b"null", "not a JSON object: null"),
        (b"42", "not a JSON object: a number"),
    ],
)
def test_a_line_that_is_not_a_json_object(line: bytes, message: str) -> None:
    with pytest.raises(LineError) as raised:
        convert_jsonl(LineFormat.IMPACT_ROWS, line)
    assert (raised.value.message, raised.value.field, raised.value.key) == (message, None, None)


def test_a_line_that_does_not_parse_says_where() -> None:
    with pytest.raises(LineError) as raised:
        convert_jsonl(LineFormat.OPENAI_BATCH, CHAT_LINE[:40])
    assert raised.value.message.startswith("not a JSON object: ")
    assert "line 1 column 41" in raised.value.message


def test_convert_jsonl_refuses_the_csv_format() -> None:
    with pytest.raises(ValueError, match="csv is not a JSONL format"):
        convert_jsonl(LineFormat.CSV, FLAT_ROW_LINE)


def test_csv_header_is_normalised_to_impact_row_fields() -> None:
    header = ["\ufeffModel", " Input Tokens ", "output-tokens", "requestTime", "input_audio_duration_s", "", "Country"]
    assert detect_csv(header) == [
        "model_id",
        "input_tokens",
        "output_tokens",
        "utc_datetime",
        "input_audio_seconds",
        "",
        "country",
    ]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (["model", "input_tokns"], "unknown column 'input_tokns' (did you mean input_tokens or output_tokens?)"),
        (["modle", "tokens_in", "country"], "unknown columns 'modle' (did you mean model_id?), 'tokens_in'"),
        (
            ["gpt-4o", "100", "200"],
            "the first row is not a header naming impact-row fields (such as model_id, input_tokens, output_tokens)",
        ),
        (["model", "Model ID"], "columns 'model' and 'Model ID' both name model_id"),
        (["", " "], "the header row is empty: name each column after an impact-row field such as model_id"),
        (["hosting", "model_id"], "unknown column 'hosting'"),
    ],
)
def test_csv_header_errors(header: list[str], message: str) -> None:
    with pytest.raises(FormatError) as raised:
        detect_csv(header)
    assert raised.value.message == message


CSV_HEADER = ["model", "input_tokens", "output_tokens", "output_images", "request_duration_ms", "country", "note"]


def fields_with_ignored_column() -> list[str]:
    """The CSV header above with its last column ("note") left unnamed, as a blank header cell leaves it."""
    return [*detect_csv(CSV_HEADER[:-1]), ""]


def test_csv_record_parses_counts_numbers_and_image_lists() -> None:
    record = ["gpt-image-1", "1,200", "12.4", "1024x1024; 512 X 512", "1,234.5", "US", "ignored"]
    assert convert_csv(fields_with_ignored_column(), record) == Converted(
        row={
            "model_id": "gpt-image-1",
            "input_tokens": 1200,
            "output_tokens": 12,
            "output_images": ("1024x1024", "512x512"),
            "request_duration_ms": 1234.5,
            "country": "US",
        },
        key=None,
    )


def test_csv_empty_cells_are_absent_and_request_id_is_the_key() -> None:
    fields = detect_csv(["request_id", "model_id", "input_tokens", "output_tokens", "utc_datetime"])
    converted = convert_csv(fields, ["row-9", " llama_31_8b ", "", "300", "2024-03-28T19:06:35Z"])
    assert converted == Converted(
        row={
            "request_id": "row-9",
            "model_id": "llama_31_8b",
            "output_tokens": 300,
            "utc_datetime": "2024-03-28T19:06:35Z",
        },
        key="row-9",
    )


def test_csv_short_records_and_trailing_empty_cells_are_fine() -> None:
    fields = detect_csv(["model_id", "input_tokens", "output_tokens"])
    assert convert_csv(fields, ["gpt-4o"]).row == {"model_id": "gpt-4o"}
    assert convert_csv(fields, ["gpt-4o", "1", "2", "", " "]).row == {
        "model_id": "gpt-4o",
        "input_tokens": 1,
        "output_tokens": 2,
    }


@pytest.mark.parametrize(
    ("record", "message", "field"),
    [
        (["gpt-4o", "1,5", "", "", "", "", ""], "input_tokens: expected a number, got '1,5'", "input_tokens"),
        (["gpt-4o", "", "many", "", "", "", ""], "output_tokens: expected a number, got 'many'", "output_tokens"),
        (
            ["gpt-4o", "", "", "", "inf", "", ""],
            "request_duration_ms: expected a number, got 'inf'",
            "request_duration_ms",
        ),
        (["gpt-4o", "", "", "10 by 10", "", "", ""], "output_images: expected sizes like 1024x1024", "output_images"),
        (["gpt-4o", "1", "2", "", "", "US", "", "extra"], "this row has 8 cells; the header has 7", None),
        (["", "", "", "", "", "", "a note only"], "no value under a named column", None),
    ],
)
def test_csv_record_errors(record: list[str], message: str, field: str | None) -> None:
    with pytest.raises(LineError) as raised:
        convert_csv(fields_with_ignored_column(), record)
    assert (raised.value.message[: len(message)], raised.value.field) == (message, field)
    assert not isinstance(raised.value, BlankRow)


@pytest.mark.parametrize("record", [[], ["", " ", ""], ["", "", "", "", "", "", "", ""]])
def test_csv_blank_rows_raise_blank_row(record: list[str]) -> None:
    with pytest.raises(BlankRow) as raised:
        convert_csv(fields_with_ignored_column(), record)
    assert raised.value.message == "blank row"


def test_csv_rows_validate_as_impact_rows() -> None:
    row = convert_csv(fields_with_ignored_column(), ["gpt-image-1", "1,200", "", "1024x1024;512x512", "", "US", ""]).row
    validated = ImpactRow.model_validate(row)
    assert (validated.input_tokens, validated.output_images) == (1200, ["1024x1024", "512x512"])


def base_type(annotation: Any) -> Any:
    """`int` of `Annotated[int, ...] | None`."""
    inner = next(arg for arg in get_args(annotation) if arg is not type(None))
    return get_args(inner)[0] if get_origin(inner) is Annotated else inner


def test_numeric_csv_fields_are_the_numeric_impact_row_fields() -> None:
    fields = ImpactRow.model_fields
    assert {name for name in CSV_FIELDS if base_type(fields[name].annotation) is int} == COUNT_FIELDS
    assert {name for name in CSV_FIELDS if base_type(fields[name].annotation) is float} == NUMBER_FIELDS
    assert set(fields) - CSV_FIELDS == {"hosting"}


def test_a_byte_order_mark_before_the_first_line_is_dropped() -> None:
    assert convert_jsonl(LineFormat.IMPACT_ROWS, b"\xef\xbb\xbf" + FLAT_ROW_LINE).key == "r-0001"
