"""Spelling-insensitive keys and close-match suggestions for catalog lookups."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_PARENTHESES = re.compile(r"\([^)]*\)")


def norm(text: str) -> str:
    """`LLaMa v3.1 8B`, `llama_v31_8b` and `llama-v3.1-8b` all become `llamav318b`; `R+` is `R Plus`."""
    return _NON_ALNUM.sub("", text.lower().replace("+", "plus"))


def family_key(family: str) -> str:
    """Family spellings such as `claude (new)` lose their parenthesised remarks."""
    return norm(_PARENTHESES.sub("", family))


def close_matches(query: str, keys: dict[str, str], limit: int = 3) -> list[str]:
    """Ids whose keys look like `query`, best first, without repeats."""
    found: list[str] = []
    for key in difflib.get_close_matches(norm(query), list(keys), n=limit * 3, cutoff=0.6):
        target = keys[key]
        if target not in found:
            found.append(target)
        if len(found) == limit:
            break
    return found


def did_you_mean(suggestions: list[str]) -> str:
    if not suggestions:
        return ""
    return " (did you mean " + " or ".join(suggestions) + "?)"


# --- Name rules: how a spelling that is not in the catalog reaches a model that is ------------------------
# Applied only after the exact lookup (ids, aliases, names, family + name, HF path) missed; each rule strips
# one suffix and the result is looked up again. Documented in server/catalog/data/README.md ("Name rules").

# A dated snapshot: `-2026-03-05`, `-20251101`, `-05-2026` (Cohere), `-2603` (Mistral's YYMM), `-0914`
# (OpenAI's MMDD). The date itself must be a real one: month 1-12, day 1-31, year 2000-2099.
_SNAPSHOT = re.compile(
    r"^(?P<base>.*?[a-z0-9.])[-_@](?:(?P<y>20\d\d)-?(?P<m>\d\d)-?(?P<d>\d\d)|(?P<m2>\d\d)-(?P<y2>20\d\d)|(?P<four>\d{4}))$",
    re.IGNORECASE,
)
# A moving pointer: `mistral-medium-latest`, `gemini-flash-latest`, `gpt-5.3-chat-latest`.
_LATEST = re.compile(r"^(?P<base>.*[a-z0-9.])[-_]latest$", re.IGNORECASE)
# Hugging Face variants of one set of weights. The value is the variant's own serving precision; None keeps the
# base model's (framework conversions and re-uploads hold the same weights).
VARIANT_PRECISION: dict[str, str | None] = {
    "4bit": "int4",  # bitsandbytes / MLX 4-bit
    "awq": "int4",  # AWQ is 4-bit weight quantization
    "gptq": "int4",  # GPTQ repos are 4-bit unless they say otherwise
    "int4": "int4",
    "8bit": "int8",
    "int8": "int8",
    "fp8": "fp8",
    "quant": "int8",  # Gemma's `-quant-pytorch` checkpoints are int8
    "sfp": "fp8",  # gemma.cpp's switched floating point: 8-bit
    "gguf": None,  # a GGUF repo holds several quantizations: the base precision stands
    "pytorch": None,
    "keras": None,
    "flax": None,
    "jax": None,
    "tflite": None,
    "cpp": None,
    "onnx": None,
    "cuda": None,
    "cpu": None,
    "directml": None,
    "web": None,
    "original": None,
    "hf": None,
    "mlx": None,
}
_VARIANT = re.compile(r"^(?P<base>.*[a-z0-9.])[-_](?P<token>[a-z0-9]+)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Derived:
    """A spelling derived from the asked one by the name rules, with the rules applied and their precision."""

    spelling: str
    rules: tuple[str, ...]
    datatype: str | None


def _is_date(match: re.Match[str]) -> bool:
    if match["y"]:
        month, day = int(match["m"]), int(match["d"])
        return 1 <= month <= 12 and 1 <= day <= 31
    if match["y2"]:
        return 1 <= int(match["m2"]) <= 12
    four = match["four"]
    yymm = 23 <= int(four[:2]) <= 39 and 1 <= int(four[2:]) <= 12  # Mistral: 2407 = 2024-07
    mmdd = 1 <= int(four[:2]) <= 12 and 1 <= int(four[2:]) <= 31  # OpenAI: 0914 = 14 September
    return yymm or mmdd


def derived_spellings(spelling: str) -> list[Derived]:
    """The spellings the name rules reach from `spelling`, nearest first (each strips one more suffix)."""
    out: list[Derived] = []
    current, datatype = spelling.strip(), None
    rules: tuple[str, ...] = ()
    while True:
        snapshot = _SNAPSHOT.match(current)
        latest = _LATEST.match(current)
        variant = _VARIANT.match(current)
        if snapshot and _is_date(snapshot):
            current, rule = snapshot["base"], "dated snapshot"
        elif latest:
            current, rule = latest["base"], "-latest alias"
        elif variant and variant["token"].lower() in VARIANT_PRECISION:
            token = variant["token"].lower()
            current, rule = variant["base"], f"Hugging Face variant (-{variant['token']})"
            datatype = datatype or VARIANT_PRECISION[token]
        else:
            return out
        rules = (*rules, rule)
        out.append(Derived(current, rules, datatype))
