"""What a sync writes: the catalog entries one caller may see, as the API's wire dicts.

`sync_catalog` never reads the catalog itself; its caller passes `CatalogEntries`. Today every caller passes
`global_entries(catalog)`. Once accounts exist, a sync run for an account passes the global entries plus that
account's own custom models, GPUs and nodes (as `GET /model` etc. return them for that account's key), and
nothing of any other account: this argument is the seam.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from server.catalog.store import Catalog

WireDict = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class CatalogEntries:
    """Lists of wire dicts (`GET /model`, `/gpu`, `/node`, `/datacenter` items), each written in the order given."""

    models: Sequence[WireDict] = field(default_factory=list)
    gpus: Sequence[WireDict] = field(default_factory=list)
    nodes: Sequence[WireDict] = field(default_factory=list)
    datacenters: Sequence[WireDict] = field(default_factory=list)

    def for_tab(self, title: str) -> Sequence[WireDict]:
        tabs = {"Models": self.models, "GPUs": self.gpus, "Nodes": self.nodes, "Datacenters": self.datacenters}
        return tabs[title]


def global_entries(catalog: Catalog) -> CatalogEntries:
    """The shipped catalog: each entry's wire dict plus the sheet-only columns of `columns.py`."""
    models = [
        {
            **m.wire,
            "active_params_billions": m.row.active_params_billions or m.row.total_params_billions,
            "params_estimated": m.row.params_estimated,
            "source": m.row.source,
        }
        for m in catalog.models.values()
    ]
    gpus = [{**g.wire, "source": g.row.source} for g in catalog.gpus.values()]
    nodes = [{**n.wire, "source": n.row.source} for n in catalog.nodes.values()]
    datacenters = [
        {**d.wire, "lat": d.row.lat, "lng": d.row.lng, "source": d.row.source} for d in catalog.datacenters.values()
    ]
    return CatalogEntries(models=models, gpus=gpus, nodes=nodes, datacenters=datacenters)
