"""Read-only catalog endpoints: /model, /gpu, /node (writes come with accounts)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from server.api.http import current_catalog, paginate, query_flag
from server.catalog.names import close_matches, did_you_mean, family_key, norm
from server.errors import NotFound, json_response

bp = Blueprint("catalog", __name__)


def _page(key: str, items: list[dict[str, Any]]) -> Response:
    page, headers = paginate(items)
    return json_response({key: page}, headers=headers)


@bp.get("/model")
def list_models() -> Response:
    models = list(current_catalog().models.values())
    family = request.args.get("family")
    if family:
        models = [m for m in models if family_key(m.row.family) == family_key(family)]
    return _page("models", [m.wire for m in models])


@bp.get("/model/<path:model_id>")
def get_model(model_id: str) -> Response:
    found = current_catalog().find_model(model_id)
    if found is None:
        hint = did_you_mean(current_catalog().suggest_models(model_id))
        raise NotFound(f"model '{model_id}' not found{hint}", field="modelId")
    return json_response(found.wire)


@bp.get("/gpu")
def list_gpus() -> Response:
    return _page("gpus", [g.wire for g in current_catalog().gpus.values()])


@bp.get("/gpu/<gpu_id>")
def get_gpu(gpu_id: str) -> Response:
    found = current_catalog().find_gpu(gpu_id)
    if found is None:
        hint = did_you_mean(close_matches(gpu_id, current_catalog().gpu_keys))
        raise NotFound(f"gpu '{gpu_id}' not found{hint}", field="gpuId")
    return json_response(found.wire)


NODE_FILTERS = {
    "service": "managed_service_id",
    "cloud": "cloud_id",
    "gpu": "gpu_id",
    "instance": "cloud_instance_id",
}


@bp.get("/node")
def list_nodes() -> Response:
    nodes = [n.row for n in current_catalog().nodes.values()]
    if query_flag("custom"):
        nodes = []  # every node here is global; custom nodes come with accounts
    for name, column in NODE_FILTERS.items():
        value = request.args.get(name)
        if value:
            nodes = [r for r in nodes if norm(getattr(r, column) or "") == norm(value)]
    return _page("nodes", [current_catalog().nodes[r.id].wire for r in nodes])


@bp.get("/node/<node_id>")
def get_node(node_id: str) -> Response:
    found = current_catalog().find_node(node_id)
    if found is None:
        hint = did_you_mean(current_catalog().suggest_nodes(node_id))
        raise NotFound(f"node '{node_id}' not found{hint}", field="nodeId")
    return json_response(found.wire)
