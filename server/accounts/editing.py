"""Create, change and delete catalog entries as one caller may: the rules behind `/model`, `/gpu` and `/node` writes.

Who may do what (the spec's rules):
- global entries (the shipped catalog and what admins save) are visible to everyone; only admins change them
  (anyone else: `NotAllowed`);
- a customer's own entries are visible to that customer only (anyone else: `EntryNotFound`, so ids do not leak);
- admins see and manage everything; what an admin creates is global;
- `cloud_instance_id` and `managed_service_id` of a node: admins only (customers own no clouds or services).
Ids and aliases of models are unique across ids and aliases of every model (`Duplicate` otherwise).

An admin's change to a shipped entry is saved as a global row with the shipped entry's id (a shadow row), holding
the whole entry as changed; an admin's deletion of a shipped entry is such a row without data. The global view
(`CatalogViews`) lays those rows over the shipped catalog, so every reader (estimates, `GET /model`, the sync)
sees the change. Errors here are domain errors; `server/api/catalog.py` maps them to HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.accounts.keys import Principal
from server.accounts.views import CatalogViews
from server.catalog.custom import EntryError, SavedEntry, datacenter_entry, gpu_entry, model_entry, node_entry
from server.catalog.names import close_matches, did_you_mean, norm
from server.catalog.store import Catalog, CatalogDatacenter, CatalogGpu, CatalogModel, CatalogNode
from server.db import entries
from server.db.tables import GLOBAL_CUSTOMER_ID, CatalogEntry

Found = CatalogModel | CatalogGpu | CatalogNode | CatalogDatacenter
# The Catalog attribute holding each kind.
KIND_TABLES = {"model": "models", "gpu": "gpus", "node": "nodes", "datacenter": "datacenters"}
ADMIN_ONLY_NODE_FIELDS = ("cloud_instance_id", "managed_service_id")


class EditError(Exception):
    """A catalog write that cannot be done; the message says why and names the field, when one is to blame."""

    def __init__(self, message: str, *, field: str | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.reason = reason


class EntryNotFound(EditError):
    """No such entry in what the caller sees."""


class NotAllowed(EditError):
    """The caller sees the entry (or the field) but may not change it."""


class Duplicate(EditError):
    """An id or alias already taken, or an entry still used by others."""


class InvalidEntry(EditError):
    """The entry as it would be saved cannot be used by estimates (an unknown GPU, base model, cloud...)."""


class CatalogEditor:
    """One caller's writes: `catalog` is what they see (global entries and their own)."""

    def __init__(self, views: CatalogViews, principal: Principal, catalog: Catalog) -> None:
        self.views = views
        self.principal = principal
        self.catalog = catalog

    # --- finding ----------------------------------------------------------------------------------------------

    def find(self, kind: str, asked: str) -> Found:
        """The entry `asked` names, as the caller sees it; `EntryNotFound` with close matches otherwise."""
        if kind == "model":
            return self.find_model(asked)
        catalog = self.catalog
        found: Found | None
        if kind == "gpu":
            found = catalog.gpus.get(asked) or catalog.find_gpu(asked)
            suggestions = [] if found else close_matches(asked, catalog.gpu_keys)
        elif kind == "datacenter":
            found = catalog.find_datacenter(asked)
            suggestions = [] if found else close_matches(asked, catalog.datacenter_keys)
        else:
            found = catalog.find_node(asked)
            suggestions = [] if found else catalog.suggest_nodes(asked)
        if found is None:
            raise _not_found(kind, asked, suggestions)
        return found

    def find_model(self, asked: str) -> CatalogModel:
        found = self.catalog.find_model(asked)
        if found is None:
            raise _not_found("model", asked, self.catalog.suggest_models(asked))
        return found

    # --- writing ----------------------------------------------------------------------------------------------

    def create(self, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Save a new entry (`fields` as the create request set them, `id` included); answers its wire dict."""
        fields = dict(fields)
        entry_id = str(fields.pop("id"))
        names: list[str] | None = None
        if kind == "model":
            names = [entry_id, *fields.get("aliases", [])]
            if len({norm(n) for n in names}) != len(names):
                raise InvalidEntry("aliases: the same name appears twice (or repeats the id)", field="aliases")
            self._check_model_names(names)
        if kind == "node":
            self._check_node_permissions(fields)
        with self._writing() as session:
            row = entries.insert_entry(
                session,
                kind,
                entry_id,
                customer_id=self._owner_id(),
                created_by=self.principal.account_name,
                data=fields,
            )
            if names is not None:
                entries.add_model_names(session, row, names)
            return self._checked(row, fields)

    def update(self, kind: str, asked: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply `changes` (the fields an update request set) to an entry; answers its wire dict."""
        found = self.find(kind, asked)
        self._may_change(kind, found)
        if kind == "node":
            self._check_node_permissions(changes)
        if isinstance(found, CatalogDatacenter) and found.row.locked and changes != {"locked": False}:
            raise NotAllowed(
                f"datacenter '{found.row.id}' is locked: unlock it first (PUT {{\"locked\": false}})",
                reason="locked",
            )
        with self._writing() as session:
            row = self._saved_row(session, kind, found)
            data = {**(row.data or {}), **changes}
            wire = self._checked(row, data)
            entries.save_data(session, row, data)
        return wire

    def delete(self, kind: str, asked: str) -> None:
        """Delete an entry; `Duplicate` (reason `in_use`) while other entries use it."""
        found = self.find(kind, asked)
        self._may_change(kind, found)
        if isinstance(found, CatalogDatacenter) and found.row.locked:
            raise NotAllowed(f"datacenter '{found.row.id}' is locked: unlock it before deleting it", reason="locked")
        shipped = getattr(self.views.shipped, KIND_TABLES[kind])
        with self._writing() as session:
            users = self._users(session, kind, found)
            if users:
                raise Duplicate(f"{kind} '{found.row.id}' is used by {', '.join(users[:5])}", reason="in_use")
            row = entries.find_entry(session, kind, found.row.id)
            if found.row.id in shipped:  # an admin deleting a shipped entry: remember it as deleted
                if row is None:
                    row = self._shadow_row(session, kind, found, None)
                entries.drop_model_names(session, row)
                entries.save_data(session, row, None)
            elif row is not None:
                entries.delete_entry(session, row)

    def add_alias(self, asked: str, alias: str) -> None:
        found = self.find_model(asked)
        self._may_change("model", found)
        self._check_model_names([alias], own=found)
        if norm(alias) in {norm(a) for a in (found.row.id, *found.row.aliases)}:
            raise Duplicate(f"'{alias}' is already a name of model '{found.row.id}'", reason="duplicate")
        with self._writing() as session:
            row = self._saved_row(session, "model", found)
            entries.add_model_names(session, row, [alias])
            data = dict(row.data or {})
            data["aliases"] = [*data.get("aliases", []), alias]
            entries.save_data(session, row, data)

    def remove_alias(self, asked: str, alias: str) -> None:
        found = self.find_model(asked)
        self._may_change("model", found)
        if norm(alias) not in {norm(a) for a in found.row.aliases}:
            raise EntryNotFound(f"model '{found.row.id}' has no alias '{alias}'", field="alias")
        with self._writing() as session:
            row = self._saved_row(session, "model", found)
            entries.drop_model_names(session, row, [alias])
            data = dict(row.data or {})
            data["aliases"] = [a for a in data.get("aliases", []) if norm(a) != norm(alias)]
            entries.save_data(session, row, data)

    # --- the rules --------------------------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        """A write transaction that tells every worker the catalog changed; a duplicate name is `Duplicate`."""
        try:
            with self.views.db.write() as session:
                yield session
                entries.bump_version(session)
        except IntegrityError as exc:
            raise Duplicate("an entry with this id or alias already exists", reason="duplicate") from exc

    def _owner_id(self) -> int:
        return GLOBAL_CUSTOMER_ID if self.principal.is_admin else self.principal.account_id

    def _may_change(self, kind: str, found: Found) -> None:
        """A non-admin may not touch a global entry (anything else they can see is their own)."""
        if found.wire["customer_id"] == GLOBAL_CUSTOMER_ID and not self.principal.is_admin:
            raise NotAllowed(f"{kind} '{found.row.id}' is global: only admins can change it", reason="global_entry")

    def _check_node_permissions(self, fields: dict[str, Any]) -> None:
        if self.principal.is_admin:
            return
        for field in ADMIN_ONLY_NODE_FIELDS:
            if fields.get(field):
                raise NotAllowed(
                    f"{field}: only admins may set it (it ties the node to a cloud or service they manage)",
                    field=field,
                    reason="admin_only",
                )

    def _check_model_names(self, names: list[str], *, own: CatalogModel | None = None) -> None:
        """`Duplicate` when an id or alias is already a shipped model's (the database guards the saved ones)."""
        shipped = self.views.shipped.model_ids_and_aliases
        for name in names:
            holder = shipped.get(norm(name))
            if holder is not None and (own is None or holder != own.row.id):
                raise Duplicate(f"'{name}' is already the id or an alias of model '{holder}'", reason="duplicate")

    def _users(self, session: Session, kind: str, found: Found) -> list[str]:
        """Ids of the entries that use this one (and so keep it from being deleted)."""
        if kind == "model" and isinstance(found, CatalogModel):
            return entries.models_based_on(session, [found.row.id, *found.row.aliases])
        if kind == "datacenter":
            return []  # rows name a datacenter; no entry refers to one
        if kind == "gpu":
            shipped_users = [n.row.id for n in self.catalog.nodes.values() if n.row.gpu_id == found.row.id]
            return sorted(set(shipped_users) | set(entries.nodes_using_gpu(session, found.row.id)))
        return [s.id for s in self.catalog.services.values() if s.node_id == found.row.id]

    # --- shadow rows: an admin's change to a shipped entry --------------------------------------------------

    def _shadow_row(self, session: Session, kind: str, found: Found, data: dict[str, Any] | None) -> CatalogEntry:
        """A global row with a shipped entry's id: an admin's change (`data`) or deletion (None) of it."""
        return entries.insert_entry(
            session,
            kind,
            found.row.id,
            customer_id=GLOBAL_CUSTOMER_ID,
            created_by=self.principal.account_name,
            data=data,
        )

    def _saved_row(self, session: Session, kind: str, found: Found) -> CatalogEntry:
        """The database row of an entry the caller may change; a shipped entry gets one (an admin's override)."""
        row = entries.find_entry(session, kind, found.row.id)
        if row is None:
            row = self._shadow_row(session, kind, found, _stored_data(found))
            if kind == "model":
                entries.add_model_names(session, row, [found.row.id, *found.wire.get("aliases", [])])
        if row.data is None:  # deleted by an admin since this worker built its view
            raise _not_found(kind, found.row.id, [])
        return row

    def _checked(self, row: CatalogEntry, data: dict[str, Any]) -> dict[str, Any]:
        """The entry as estimates will see it; a field they cannot use is `InvalidEntry` naming that field.

        A field of the wrong shape raises pydantic's `ValidationError` (the api names its field too)."""
        saved = _as_saved(row, data)
        try:
            if row.kind == "model":
                return model_entry(saved, self.catalog).wire
            if row.kind == "gpu":
                return gpu_entry(saved).wire
            if row.kind == "datacenter":
                _check_datacenter(data, self.catalog)
                return datacenter_entry(saved).wire
            _check_node(data, self.catalog)
            return node_entry(saved).wire
        except EntryError as exc:
            raise InvalidEntry(str(exc), field=exc.field, reason="invalid_reference") from exc


def _not_found(kind: str, asked: str, suggestions: list[str]) -> EntryNotFound:
    return EntryNotFound(f"{kind} '{asked}' not found{did_you_mean(suggestions)}", field=f"{kind}Id")


def _stored_data(found: Found) -> dict[str, Any]:
    """Everything a shipped entry holds, its source included, as a saved entry keeps it."""
    return found.row.model_dump(mode="json", exclude={"id", "as_of"}, exclude_none=True)


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


def _check_datacenter(data: dict[str, Any], catalog: Catalog) -> None:
    country = data.get("country")
    if country and country not in catalog.countries:
        hint = did_you_mean(close_matches(str(country), {c.lower(): c for c in catalog.countries}))
        raise EntryError(f"country: no grid data for '{country}'{hint}", "country")
    if data.get("region_code") and not country:
        raise EntryError("region_code: needs country (e.g. country US, region_code NY)", "region_code")
    cloud_id = data.get("cloud_id")
    if cloud_id and cloud_id not in catalog.clouds:
        raise EntryError(f"cloud_id: unknown cloud '{cloud_id}' (known: {', '.join(catalog.clouds)})", "cloud_id")
    # The spec's embodied totals have no denominator: without the site's IT capacity they would be kept and
    # silently left out of every estimate.
    embodied = [name for name in ("embodied_emissions_kgco2e", "embodied_water_l") if data.get(name)]
    if embodied and not data.get("it_capacity_mw"):
        raise EntryError(
            f"it_capacity_mw: {' and '.join(embodied)} are shared over the site's IT energy, which needs its IT "
            "capacity in MW (life and average load default to 20 years and 0.56)",
            "it_capacity_mw",
        )


def global_catalog(views: CatalogViews) -> Catalog:
    """The global view at the database's current version: the shipped catalog with the admins' saved entries."""
    with views.db.read() as session:
        version, generation = entries.catalog_state(session)
    return views.view(None, version, generation).catalog
