"""/model, /gpu, /node, /datacenter: list and read what the caller sees; create, change and delete entries.

HTTP only: the rules of who may change what, and the shadow rows of an admin's change to a shipped entry, live in
`server.accounts.editing`; its domain errors become 400, 403, 404 and 409 here.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Blueprint, Response, request
from pydantic import BaseModel, ValidationError

from server.accounts.auth import current_principal, views
from server.accounts.editing import CatalogEditor, Duplicate, EditError, EntryNotFound, InvalidEntry, NotAllowed
from server.api.http import current_catalog, paginate, parse_json, query_flag, require_json_body
from server.api.spec import Reply, documented
from server.catalog.names import family_key, norm
from server.db.tables import GLOBAL_CUSTOMER_ID
from server.errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    error_response,
    from_validation_error,
    json_response,
)
from server.schemas.catalog import (
    GPU,
    AliasRequest,
    Datacenter,
    DatacenterCreate,
    DatacenterResponse,
    DatacenterUpdate,
    GPUCreate,
    GPUResponse,
    GPUUpdate,
    Model,
    ModelCreate,
    ModelListQuery,
    ModelResponse,
    ModelUpdate,
    Node,
    NodeCreate,
    NodeListQuery,
    NodeResponse,
    NodeUpdate,
    PageQuery,
)

bp = Blueprint("catalog", __name__)
Body = TypeVar("Body", bound=BaseModel)

PAGE_HEADERS = {
    "X-Total-Count": "how many items match, over all pages",
    "Link": 'the next page: <url>; rel="next" (absent on the last page)',
}
MODEL_ID = {"model_id": "the model's id or alias, family/name, Hugging Face path or provider:model"}
GPU_ID = {"gpu_id": "the GPU's id or name"}
NODE_ID = {"node_id": "the node's id, or cloud:instance (aws:p4d.24xlarge)"}
MODEL_EXAMPLE = {"model_id": "llama_31_8b"}
GPU_EXAMPLE = {"gpu_id": "h100"}
NODE_EXAMPLE = {"node_id": "aws-p4d-24xlarge"}
DATACENTER_ID = {"datacenter_id": "the datacenter's id"}
DATACENTER_EXAMPLE = {"datacenter_id": "aws-us-east-1"}
EDIT_ERRORS: dict[type[EditError], type[ApiError]] = {
    InvalidEntry: BadRequest,
    NotAllowed: Forbidden,
    EntryNotFound: NotFound,
    Duplicate: Conflict,
}


@bp.errorhandler(EditError)
def _edit_error(error: EditError) -> Response:
    status = EDIT_ERRORS[type(error)]
    return error_response(status(error.message, field=error.field, reason=error.reason))


@bp.errorhandler(ValidationError)
def _invalid_entry(error: ValidationError) -> Response:
    """A saved entry's field the catalog's row models refuse (the request models let it through)."""
    return error_response(from_validation_error(error))


def _editor() -> CatalogEditor:
    return CatalogEditor(views(), current_principal(), current_catalog())


def _page(key: str, items: list[dict[str, Any]]) -> Response:
    page, headers = paginate(items)
    return json_response({key: page}, headers=headers)


def _body(schema: type[Body]) -> Body:
    raw = parse_json(require_json_body())
    try:
        return schema.model_validate(raw)
    except ValidationError as exc:
        raise from_validation_error(exc) from exc


def _set_fields(body: BaseModel) -> dict[str, Any]:
    return body.model_dump(mode="json", exclude_unset=True, exclude_none=True)


def _listed(model: type[BaseModel], description: str) -> Reply:
    return Reply(description=description, model=model, headers=PAGE_HEADERS)


# --- reading --------------------------------------------------------------------------------------------


@bp.get("/model")
@documented("List models", query=ModelListQuery, replies={200: _listed(ModelResponse, "List models")})
def list_models() -> Response:
    models = list(current_catalog().models.values())
    family = request.args.get("family")
    if family:
        models = [m for m in models if family_key(m.row.family) == family_key(family)]
    return _page("models", [m.wire for m in models])


@bp.get("/model/<path:model_id>")
@documented("Get a model", path=MODEL_ID, examples=MODEL_EXAMPLE, replies={200: Reply("A model", Model)}, errors=(404,))
def get_model(model_id: str) -> Response:
    return json_response(_editor().find("model", model_id).wire)


@bp.get("/gpu")
@documented("List GPUs", query=PageQuery, replies={200: _listed(GPUResponse, "List GPUs")})
def list_gpus() -> Response:
    return _page("gpus", [g.wire for g in current_catalog().gpus.values()])


@bp.get("/gpu/<gpu_id>")
@documented("Get a GPU", path=GPU_ID, examples=GPU_EXAMPLE, replies={200: Reply("A GPU", GPU)}, errors=(404,))
def get_gpu(gpu_id: str) -> Response:
    return json_response(_editor().find("gpu", gpu_id).wire)


NODE_FILTERS = {
    "service": "managed_service_id",
    "cloud": "cloud_id",
    "gpu": "gpu_id",
    "instance": "cloud_instance_id",
}


@bp.get("/node")
@documented("List nodes", query=NodeListQuery, replies={200: _listed(NodeResponse, "List nodes")})
def list_nodes() -> Response:
    nodes = list(current_catalog().nodes.values())
    custom = query_flag("custom")
    if custom is not None:
        nodes = [n for n in nodes if (n.wire["customer_id"] != GLOBAL_CUSTOMER_ID) == custom]
    for name, column in NODE_FILTERS.items():
        value = request.args.get(name)
        if value:
            nodes = [n for n in nodes if norm(getattr(n.row, column) or "") == norm(value)]
    return _page("nodes", [n.wire for n in nodes])


@bp.get("/node/<node_id>")
@documented("Get a node", path=NODE_ID, examples=NODE_EXAMPLE, replies={200: Reply("A node", Node)}, errors=(404,))
def get_node(node_id: str) -> Response:
    return json_response(_editor().find("node", node_id).wire)


# --- writing --------------------------------------------------------------------------------------------

WRITE_ERRORS = (403, 409)


@bp.post("/model")
@documented(
    "Save a model (an admin's is global, a customer's their own)",
    body=ModelCreate,
    replies={201: Reply("The saved model", Model)},
    errors=WRITE_ERRORS,
)
def create_model() -> Response:
    return json_response(_editor().create("model", _set_fields(_body(ModelCreate))), 201)


@bp.put("/model/<path:model_id>")
@documented(
    "Change a model (the fields sent)",
    path=MODEL_ID,
    examples=MODEL_EXAMPLE,
    body=ModelUpdate,
    replies={200: Reply("The changed model", Model)},
    errors=(404, *WRITE_ERRORS),
)
def update_model(model_id: str) -> Response:
    body = _body(ModelUpdate)
    return json_response(_editor().update("model", model_id, _set_fields(body)))


@bp.delete("/model/<path:model_id>")
@documented(
    "Delete a model", path=MODEL_ID, examples=MODEL_EXAMPLE, replies={204: "Deleted"}, errors=(404, *WRITE_ERRORS)
)
def delete_model(model_id: str) -> Response:
    _editor().delete("model", model_id)
    return Response(status=204)


@bp.put("/model/<path:model_id>/alias")
@documented(
    "Add an alias to a model",
    path=MODEL_ID,
    examples=MODEL_EXAMPLE,
    body=AliasRequest,
    replies={204: "Added"},
    errors=(404, *WRITE_ERRORS),
)
def add_model_alias(model_id: str) -> Response:
    body = _body(AliasRequest)
    _editor().add_alias(model_id, body.alias)
    return Response(status=204)


@bp.delete("/model/<path:model_id>/alias/<alias>")
@documented(
    "Remove an alias of a model",
    path={**MODEL_ID, "alias": "the alias to remove"},
    examples={**MODEL_EXAMPLE, "alias": "llama_v31_8b"},
    replies={204: "Removed"},
    errors=(404, *WRITE_ERRORS),
)
def remove_model_alias(model_id: str, alias: str) -> Response:
    _editor().remove_alias(model_id, alias)
    return Response(status=204)


@bp.post("/gpu")
@documented("Save a GPU", body=GPUCreate, replies={201: Reply("The saved GPU", GPU)}, errors=WRITE_ERRORS)
def create_gpu() -> Response:
    return json_response(_editor().create("gpu", _set_fields(_body(GPUCreate))), 201)


@bp.put("/gpu/<gpu_id>")
@documented(
    "Change a GPU (the fields sent)",
    path=GPU_ID,
    examples=GPU_EXAMPLE,
    body=GPUUpdate,
    replies={200: Reply("The changed GPU", GPU)},
    errors=(404, *WRITE_ERRORS),
)
def update_gpu(gpu_id: str) -> Response:
    body = _body(GPUUpdate)
    return json_response(_editor().update("gpu", gpu_id, _set_fields(body)))


@bp.delete("/gpu/<gpu_id>")
@documented(
    "Delete a GPU no node uses",
    path=GPU_ID,
    examples=GPU_EXAMPLE,
    replies={204: "Deleted"},
    errors=(404, *WRITE_ERRORS),
)
def delete_gpu(gpu_id: str) -> Response:
    _editor().delete("gpu", gpu_id)
    return Response(status=204)


@bp.post("/node")
@documented("Save a node", body=NodeCreate, replies={201: Reply("The saved node", Node)}, errors=WRITE_ERRORS)
def create_node() -> Response:
    return json_response(_editor().create("node", _set_fields(_body(NodeCreate))), 201)


@bp.put("/node/<node_id>")
@documented(
    "Change a node (the fields sent)",
    path=NODE_ID,
    examples=NODE_EXAMPLE,
    body=NodeUpdate,
    replies={200: Reply("The changed node", Node)},
    errors=(404, *WRITE_ERRORS),
)
def update_node(node_id: str) -> Response:
    body = _body(NodeUpdate)
    return json_response(_editor().update("node", node_id, _set_fields(body)))


@bp.delete("/node/<node_id>")
@documented(
    "Delete a node no managed service uses",
    path=NODE_ID,
    examples=NODE_EXAMPLE,
    replies={204: "Deleted"},
    errors=(404, *WRITE_ERRORS),
)
def delete_node(node_id: str) -> Response:
    _editor().delete("node", node_id)
    return Response(status=204)


# --- datacenters ----------------------------------------------------------------------------------------


def _datacenter_wire(wire: dict[str, Any]) -> dict[str, Any]:
    """A datacenter as the caller may see it: `customer_id` is shown to admins only (the spec's rule)."""
    if current_principal().is_admin:
        return wire
    return {key: value for key, value in wire.items() if key != "customer_id"}


@bp.get("/datacenter")
@documented("List datacenters", query=PageQuery, replies={200: _listed(DatacenterResponse, "List datacenters")})
def list_datacenters() -> Response:
    return _page("datacenters", [_datacenter_wire(d.wire) for d in current_catalog().datacenters.values()])


@bp.get("/datacenter/<datacenter_id>")
@documented(
    "Get a datacenter",
    path=DATACENTER_ID,
    examples=DATACENTER_EXAMPLE,
    replies={200: Reply("A datacenter", Datacenter)},
    errors=(404,),
)
def get_datacenter(datacenter_id: str) -> Response:
    return json_response(_datacenter_wire(_editor().find("datacenter", datacenter_id).wire))


@bp.post("/datacenter")
@documented(
    "Save a datacenter (an admin's is global, a customer's their own)",
    body=DatacenterCreate,
    replies={201: Reply("The saved datacenter", Datacenter)},
    errors=WRITE_ERRORS,
)
def create_datacenter() -> Response:
    saved = _editor().create("datacenter", _set_fields(_body(DatacenterCreate)))
    return json_response(_datacenter_wire(saved), 201)


@bp.put("/datacenter/<datacenter_id>")
@documented(
    'Change a datacenter (the fields sent); a locked one takes only {"locked": false}',
    path=DATACENTER_ID,
    examples=DATACENTER_EXAMPLE,
    body=DatacenterUpdate,
    replies={200: Reply("The changed datacenter", Datacenter)},
    errors=(404, *WRITE_ERRORS),
)
def update_datacenter(datacenter_id: str) -> Response:
    body = _body(DatacenterUpdate)
    return json_response(_datacenter_wire(_editor().update("datacenter", datacenter_id, _set_fields(body))))


@bp.delete("/datacenter/<datacenter_id>")
@documented(
    "Delete a datacenter (not a locked one)",
    path=DATACENTER_ID,
    examples=DATACENTER_EXAMPLE,
    replies={204: "Deleted"},
    errors=(404, *WRITE_ERRORS),
)
def delete_datacenter(datacenter_id: str) -> Response:
    _editor().delete("datacenter", datacenter_id)
    return Response(status=204)
