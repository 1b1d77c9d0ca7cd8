"""What a key may do. A `full` key may do whatever its account may; an `estimate` key, the kind to put in a shared
spreadsheet, may only estimate and read the catalog: every write, batch, file, sync and admin endpoint answers it
403. The list is of what is allowed, so an endpoint added later is closed to estimate keys until listed here."""

from __future__ import annotations

FULL = "full"
ESTIMATE = "estimate"
SCOPES = (FULL, ESTIMATE)

# (endpoint, method) pairs an estimate key may call.
ESTIMATE_ALLOWED = frozenset(
    {
        ("impact.impact", "POST"),
        ("sheets.sheets_impact", "POST"),
        ("sheets.sheets_explain", "POST"),
        ("bigquery.bigquery", "POST"),
        ("sheets.sheets_catalog", "GET"),
        ("catalog.list_models", "GET"),
        ("catalog.get_model", "GET"),
        ("catalog.list_gpus", "GET"),
        ("catalog.get_gpu", "GET"),
        ("catalog.list_nodes", "GET"),
        ("catalog.get_node", "GET"),
        ("catalog.list_datacenters", "GET"),
        ("catalog.get_datacenter", "GET"),
    }
)


def allows(scope: str, endpoint: str, method: str) -> bool:
    """May a key of this scope call this endpoint with this method? (HEAD is GET's.)"""
    if scope == FULL:
        return True
    if scope == ESTIMATE:
        return (endpoint, "GET" if method == "HEAD" else method) in ESTIMATE_ALLOWED
    return False  # a scope this version does not know grants nothing
