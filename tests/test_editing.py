"""The catalog editing service (server/accounts/editing.py): its rules, as domain errors, without HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server.accounts.editing import (
    CatalogEditor,
    Duplicate,
    EntryNotFound,
    InvalidEntry,
    NotAllowed,
    global_catalog,
)
from server.accounts.keys import Principal, create_key, principal_for_account
from server.accounts.views import CatalogViews
from server.catalog.store import Catalog
from server.db.database import Database


@pytest.fixture()
def views(tmp_path: Path, catalog: Catalog) -> Iterator[CatalogViews]:
    db = Database(f"sqlite:///{tmp_path / 'edits.sqlite3'}")
    db.migrate()
    yield CatalogViews(db, shipped=catalog, reload=lambda: catalog)
    db.dispose()


def principal(views: CatalogViews, name: str, *, admin: bool = False) -> Principal:
    with views.db.write() as session:
        create_key(session, name, admin=admin)
    with views.db.read() as session:
        found = principal_for_account(session, name)
    assert found is not None
    return found


def editor(views: CatalogViews, who: Principal) -> CatalogEditor:
    """An editor over what `who` sees now (each request builds one)."""
    from server.db import entries

    with views.db.read() as session:
        version, generation = entries.catalog_state(session)
    return CatalogEditor(views, who, views.view(who, version, generation).catalog)


def test_an_admins_change_to_a_shipped_model_is_a_global_shadow_row(views: CatalogViews) -> None:
    admin = principal(views, "ops", admin=True)
    shipped = views.shipped.models["gpt-4o"].wire

    changed = editor(views, admin).update("model", "gpt-4o", {"name": "GPT-4o (edited)"})

    assert changed["name"] == "GPT-4o (edited)" and changed["aliases"] == shipped["aliases"]
    seen = global_catalog(views).models["gpt-4o"]
    assert seen.wire["name"] == "GPT-4o (edited)" and seen.wire["customer_id"] == 0
    assert seen.row.total_params_billions == views.shipped.models["gpt-4o"].row.total_params_billions
    assert "changed: saved through the API by ops (global)" in seen.row.source

    editor(views, admin).delete("model", "gpt-4o")
    assert "gpt-4o" not in global_catalog(views).models
    with pytest.raises(EntryNotFound, match="model 'gpt-4o' not found"):
        editor(views, admin).find("model", "gpt-4o")


def test_a_customer_may_not_change_global_entries_or_admin_only_fields(views: CatalogViews) -> None:
    alice = principal(views, "alice")
    with pytest.raises(NotAllowed) as refused:
        editor(views, alice).update("gpu", "h100", {"max_power_w": 1.0})
    assert refused.value.reason == "global_entry"
    node = {"id": "alice-box", "gpu_id": "h100", "gpu_count": 8, "cpu_count": 2, "managed_service_id": "openai"}
    with pytest.raises(NotAllowed) as refused:
        editor(views, alice).create("node", node)
    assert refused.value.field == "managed_service_id"


def test_names_references_and_users_are_checked(views: CatalogViews) -> None:
    alice = principal(views, "alice")
    admin = principal(views, "ops", admin=True)
    with pytest.raises(Duplicate, match="already the id or an alias of model 'llama_31_8b'"):
        editor(views, alice).create("model", {"id": "mine", "aliases": ["llama_v31_8b"], "total_params_billions": 1})
    with pytest.raises(InvalidEntry) as invalid:
        editor(views, alice).create("model", {"id": "mine", "fine_tuned_from_model_id": "gpt-9"})
    assert invalid.value.field == "fine_tuned_from_model_id"
    with pytest.raises(Duplicate) as used:
        editor(views, admin).delete("gpu", "h100")
    assert used.value.reason == "in_use"
