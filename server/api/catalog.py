"""/model, /gpu, /node: list and read what the caller sees; create, change and delete entries.

Who may do what (the spec's rules):
- global entries (the shipped catalog and what admins save) are visible to everyone; only admins change them
  (anyone else: 403);
- a customer's own entries are visible to that customer only (anyone else: 404, so ids do not leak);
- admins see and manage everything; what an admin creates is global;
- `cloud_instance_id` and `managed_service_id` of a node: admins only (customers own no clouds or services).
Ids and aliases of models are unique across ids and aliases of every model (409 otherwise).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import Blueprint, Response, request
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.accounts.auth import current_principal, views
from server.api.http import current_catalog, paginate, parse_json, query_flag, require_json_body
from server.catalog.custom import EntryError, SavedEntry, gpu_entry, model_entry, node_entry
from server.catalog.names import close_matches, did_you_mean, family_key, norm
from server.catalog.store import Catalog, CatalogGpu, CatalogModel, CatalogNode
from server.db import entries
from server.db.tables import GLOBAL_CUSTOMER_ID, CatalogEntry
from server.errors import BadRequest, Conflict, Forbidden, NotFound, from_validation_error, json_response
from server.schemas.catalog import (
    AliasRequest,
    GPUCreate,
    GPUUpdate,
    ModelCreate,
    ModelUpdate,
    NodeCreate,
    NodeUpdate,
)

bp = Blueprint("catalog", __name__)
Body = TypeVar("Body", bound=BaseModel)
Found = CatalogModel | CatalogGpu | CatalogNode
KIND_TABLES = {"model": "models", "gpu": "gpus", "node": "nodes"}  # the Catalog attribute holding each kind


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


# --- reading --------------------------------------------------------------------------------------------


def _not_found(kind: str, asked: str, suggestions: list[str]) -> NotFound:
    return NotFound(f"{kind} '{asked}' not found{did_you_mean(suggestions)}", field=f"{kind}Id")


def _find_model(asked: str) -> CatalogModel:
    found = current_catalog().find_model(asked)
    if found is None:
        raise _not_found("model", asked, current_catalog().suggest_models(asked))
    return found


def _find_gpu(asked: str) -> CatalogGpu:
    found = current_catalog().gpus.get(asked) or current_catalog().find_gpu(asked)
    if found is None:
        raise _not_found("gpu", asked, close_matches(asked, current_catalog().gpu_keys))
    return found


def _find_node(asked: str) -> CatalogNode:
    found = current_catalog().find_node(asked)
    if found is None:
        raise _not_found("node", asked, current_catalog().suggest_nodes(asked))
    return found


@bp.get("/model")
def list_models() -> Response:
    models = list(current_catalog().models.values())
    family = request.args.get("family")
    if family:
        models = [m for m in models if family_key(m.row.family) == family_key(family)]
    return _page("models", [m.wire for m in models])


@bp.get("/model/<path:model_id>")
def get_model(model_id: str) -> Response:
    return json_response(_find_model(model_id).wire)


@bp.get("/gpu")
def list_gpus() -> Response:
    return _page("gpus", [g.wire for g in current_catalog().gpus.values()])


@bp.get("/gpu/<gpu_id>")
def get_gpu(gpu_id: str) -> Response:
    return json_response(_find_gpu(gpu_id).wire)


NODE_FILTERS = {
    "service": "managed_service_id",
    "cloud": "cloud_id",
    "gpu": "gpu_id",
    "instance": "cloud_instance_id",
}


@bp.get("/node")
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
def get_node(node_id: str) -> Response:
    return json_response(_find_node(node_id).wire)


# --- writing --------------------------------------------------------------------------------------------


@contextmanager
def _writing() -> Iterator[Session]:
    """A write transaction that tells every worker the catalog changed; a duplicate name becomes 409."""
    try:
        with views().db.write() as session:
            yield session
            entries.bump_version(session)
    except IntegrityError as exc:
        raise Conflict("an entry with this id or alias already exists", reason="duplicate") from exc


def _owner_id() -> int:
    principal = current_principal()
    return GLOBAL_CUSTOMER_ID if principal.is_admin else principal.account_id


def _may_change(kind: str, found: Found) -> None:
    """403 for a non-admin touching a global entry (anything else they can see is their own)."""
    if found.wire["customer_id"] == GLOBAL_CUSTOMER_ID and not current_principal().is_admin:
        raise Forbidden(f"{kind} '{found.row.id}' is global: only admins can change it", reason="global_entry")


def _stored_data(found: Found) -> dict[str, Any]:
    """Everything a shipped entry holds, its source included, as a saved entry keeps it."""
    return found.row.model_dump(mode="json", exclude={"id", "as_of"}, exclude_none=True)


def _shadow_row(session: Session, kind: str, found: Found, data: dict[str, Any] | None) -> CatalogEntry:
    """A global row with a shipped entry's id: an admin's change (`data`) or deletion (None) of it."""
    return entries.insert_entry(
        session,
        kind,
        found.row.id,
        customer_id=GLOBAL_CUSTOMER_ID,
        created_by=current_principal().account_name,
        data=data,
    )


def _saved_row(session: Session, kind: str, found: Found) -> CatalogEntry:
    """The database row of an entry the caller may change; a shipped entry gets one (an admin's override)."""
    row = entries.find_entry(session, kind, found.row.id)
    if row is None:
        row = _shadow_row(session, kind, found, _stored_data(found))
        if kind == "model":
            entries.add_model_names(session, row, [found.row.id, *found.wire.get("aliases", [])])
    if row.data is None:  # deleted by an admin since this worker built its view
        raise _not_found(kind, found.row.id, [])
    return row


def _as_saved(row: CatalogEntry, data: dict[str, Any]) -> SavedEntry:
    return SavedEntry(
        kind=row.kind,
        entry_id=row.entry_id,
        customer_id=row.customer_id,
        created_by=row.created_by,
        created_at=entries.aware(row.created_at),
        updated_at=entries.now(),
        data=data,
    )


def _checked(row: CatalogEntry, data: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
    """Build the entry as estimates will see it; a field it cannot use is a 400 naming that field."""
    saved = _as_saved(row, data)
    try:
        if row.kind == "model":
            return model_entry(saved, catalog).wire
        if row.kind == "gpu":
            return gpu_entry(saved).wire
        _check_node(data, catalog)
        return node_entry(saved).wire
    except EntryError as exc:
        raise BadRequest(str(exc), field=exc.field, reason="invalid_reference") from exc
    except ValidationError as exc:
        raise from_validation_error(exc) from exc


def _check_node(data: dict[str, Any], catalog: Catalog) -> None:
    gpu_id = data.get("gpu_id")
    if not gpu_id or gpu_id not in catalog.gpus:
        hint = did_you_mean(close_matches(str(gpu_id), catalog.gpu_keys))
        raise EntryError(f"gpu_id: unknown gpu '{gpu_id}'{hint}", "gpu_id")
    cloud_id = data.get("cloud_id")
    if cloud_id and cloud_id not in catalog.clouds:
        raise EntryError(f"cloud_id: unknown cloud '{cloud_id}' (known: {', '.join(catalog.clouds)})", "cloud_id")
    service_id = data.get("managed_service_id")
    if service_id and catalog.find_service(service_id) is None:
        raise EntryError(f"managed_service_id: unknown managed service '{service_id}'", "managed_service_id")


def _check_node_permissions(fields: dict[str, Any]) -> None:
    if current_principal().is_admin:
        return
    for field in ("cloud_instance_id", "managed_service_id"):
        if fields.get(field):
            raise Forbidden(
                f"{field}: only admins may set it (it ties the node to a cloud or service they manage)",
                field=field,
                reason="admin_only",
            )


def _check_model_names(names: list[str], *, own: CatalogModel | None = None) -> None:
    """409 when an id or alias is already a shipped model's (the database guards the saved ones)."""
    shipped = views().shipped.model_ids_and_aliases
    for name in names:
        holder = shipped.get(norm(name))
        if holder is not None and (own is None or holder != own.row.id):
            raise Conflict(f"'{name}' is already the id or an alias of model '{holder}'", reason="duplicate")


def _create(kind: str, body: BaseModel, names: list[str] | None = None) -> Response:
    fields = _set_fields(body)
    entry_id = fields.pop("id")
    catalog = current_catalog()
    with _writing() as session:
        row = entries.insert_entry(
            session,
            kind,
            entry_id,
            customer_id=_owner_id(),
            created_by=current_principal().account_name,
            data=fields,
        )
        if names is not None:
            entries.add_model_names(session, row, names)
        wire = _checked(row, fields, catalog)
    return json_response(wire, 201)


def _update(
    kind: str, found: Found, body: BaseModel, check: Callable[[dict[str, Any]], None] | None = None
) -> Response:
    _may_change(kind, found)
    changes = _set_fields(body)
    if check is not None:
        check(changes)
    catalog = current_catalog()
    with _writing() as session:
        row = _saved_row(session, kind, found)
        data = {**(row.data or {}), **changes}
        wire = _checked(row, data, catalog)
        entries.save_data(session, row, data)
    return json_response(wire)


def _delete(kind: str, found: Found, in_use: Callable[[Session], list[str]] | None = None) -> Response:
    _may_change(kind, found)
    shipped = getattr(views().shipped, KIND_TABLES[kind])
    with _writing() as session:
        if in_use is not None:
            users = in_use(session)
            if users:
                raise Conflict(f"{kind} '{found.row.id}' is used by {', '.join(users[:5])}", reason="in_use")
        row = entries.find_entry(session, kind, found.row.id)
        if found.row.id in shipped:  # an admin deleting a shipped entry: remember it as deleted
            if row is None:
                row = _shadow_row(session, kind, found, None)
            entries.drop_model_names(session, row)
            entries.save_data(session, row, None)
        elif row is not None:
            entries.delete_entry(session, row)
    return Response(status=204)


@bp.post("/model")
def create_model() -> Response:
    body = _body(ModelCreate)
    names = [body.id, *body.aliases]
    if len({norm(n) for n in names}) != len(names):
        raise BadRequest("aliases: the same name appears twice (or repeats the id)", field="aliases")
    _check_model_names(names)
    return _create("model", body, names)


@bp.put("/model/<path:model_id>")
def update_model(model_id: str) -> Response:
    body = _body(ModelUpdate)
    return _update("model", _find_model(model_id), body)


@bp.delete("/model/<path:model_id>")
def delete_model(model_id: str) -> Response:
    found = _find_model(model_id)
    names = [found.row.id, *found.row.aliases]
    return _delete("model", found, lambda session: entries.models_based_on(session, names))


@bp.put("/model/<path:model_id>/alias")
def add_model_alias(model_id: str) -> Response:
    body = _body(AliasRequest)
    found = _find_model(model_id)
    _may_change("model", found)
    _check_model_names([body.alias], own=found)
    if norm(body.alias) in {norm(a) for a in (found.row.id, *found.row.aliases)}:
        raise Conflict(f"'{body.alias}' is already a name of model '{found.row.id}'", reason="duplicate")
    with _writing() as session:
        row = _saved_row(session, "model", found)
        entries.add_model_names(session, row, [body.alias])
        data = dict(row.data or {})
        data["aliases"] = [*data.get("aliases", []), body.alias]
        entries.save_data(session, row, data)
    return Response(status=204)


@bp.delete("/model/<path:model_id>/alias/<alias>")
def remove_model_alias(model_id: str, alias: str) -> Response:
    found = _find_model(model_id)
    _may_change("model", found)
    if norm(alias) not in {norm(a) for a in found.row.aliases}:
        raise NotFound(f"model '{found.row.id}' has no alias '{alias}'", field="alias")
    with _writing() as session:
        row = _saved_row(session, "model", found)
        entries.drop_model_names(session, row, [alias])
        data = dict(row.data or {})
        data["aliases"] = [a for a in data.get("aliases", []) if norm(a) != norm(alias)]
        entries.save_data(session, row, data)
    return Response(status=204)


@bp.post("/gpu")
def create_gpu() -> Response:
    return _create("gpu", _body(GPUCreate))


@bp.put("/gpu/<gpu_id>")
def update_gpu(gpu_id: str) -> Response:
    body = _body(GPUUpdate)
    return _update("gpu", _find_gpu(gpu_id), body)


def _nodes_using(gpu: CatalogGpu) -> Callable[[Session], list[str]]:
    def find(session: Session) -> list[str]:
        shipped_users = [n.row.id for n in current_catalog().nodes.values() if n.row.gpu_id == gpu.row.id]
        return sorted(set(shipped_users) | set(entries.nodes_using_gpu(session, gpu.row.id)))

    return find


@bp.delete("/gpu/<gpu_id>")
def delete_gpu(gpu_id: str) -> Response:
    found = _find_gpu(gpu_id)
    return _delete("gpu", found, _nodes_using(found))


@bp.post("/node")
def create_node() -> Response:
    body = _body(NodeCreate)
    _check_node_permissions(_set_fields(body))
    return _create("node", body)


@bp.put("/node/<node_id>")
def update_node(node_id: str) -> Response:
    body = _body(NodeUpdate)
    return _update("node", _find_node(node_id), body, _check_node_permissions)


@bp.delete("/node/<node_id>")
def delete_node(node_id: str) -> Response:
    found = _find_node(node_id)

    def in_use(_session: Session) -> list[str]:
        return [s.id for s in current_catalog().services.values() if s.node_id == found.row.id]

    return _delete("node", found, in_use)
