"""Spelling-insensitive keys and close-match suggestions for catalog lookups."""

from __future__ import annotations

import difflib
import re

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
