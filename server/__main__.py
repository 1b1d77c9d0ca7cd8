"""Command line: `python -m server <command>`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from server.accounts.cli import add_commands as add_key_commands
from server.sync.cli import add_arguments as add_sync_arguments


def _serve(args: argparse.Namespace) -> int:
    """Run gunicorn on the app factory (the same way App Engine and Cloud Run do)."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{args.host}:{args.port}",
        "--workers",
        str(args.workers),
        "--access-logfile",
        "-",
        "server.app:create_app()",
    ]
    from server.accounts.cli import first_start_key

    key = first_start_key()
    if key is not None:
        print("first start: created an admin key; it is shown once, store it now:", flush=True)
        print(f"    {key}", flush=True)
    print(f"serving on http://{args.host}:{args.port} (catalog: shipped; Ctrl-C stops)", flush=True)
    os.execv(sys.executable, command)
    return 0  # pragma: no cover - execv does not return


def _check_catalog(args: argparse.Namespace) -> int:
    """Load the catalog as the server would and print its sizes."""
    from server.catalog.files import CatalogError
    from server.catalog.store import Catalog
    from server.settings import load_settings

    settings = load_settings()
    try:
        catalog = Catalog(settings.CATALOG_DIR)
    except CatalogError as exc:
        print(f"catalog error: {exc}", file=sys.stderr)
        return 1
    print(
        f"models {len(catalog.models)}, gpus {len(catalog.gpus)}, nodes {len(catalog.nodes)}, "
        f"managed services {len(catalog.services)}, cloud regions "
        f"{len({(r.cloud_id, r.region) for r in catalog.regions.values()})}, grid places {len(catalog.grid)}"
    )
    return 0


def _catalog_coverage(args: argparse.Namespace) -> int:
    """Print what a reference list of model names has that the catalog does not (server/catalog/coverage.py)."""
    from server.catalog import coverage
    from server.catalog.files import CatalogError
    from server.catalog.store import Catalog
    from server.settings import load_settings

    try:
        if args.csv:
            references, label = coverage.read_csv(Path(args.csv)), args.csv
        else:
            path = coverage.ecologits_models_json()
            if path is None:
                print(
                    "catalog-coverage: EcoLogits is not installed (pip install -e '.[dev]'); "
                    "or give a CSV of names: --csv FILE (columns provider,name or name)",
                    file=sys.stderr,
                )
                return 2
            references = coverage.read_ecologits(path)
            label = f"{coverage.ECOLOGITS_REPOSITORY}, ecologits {coverage.ecologits_version()}"
        catalog = Catalog(load_settings().CATALOG_DIR)
    except CatalogError as exc:
        print(f"catalog-coverage: {exc}", file=sys.stderr)
        return 1
    result = coverage.coverage(catalog, references)
    for line in coverage.report(result, label, len(catalog.models)):
        print(line)
    worst = min(result.share(result.missing_qualified), result.share(result.missing_bare))
    return 1 if args.fail_under is not None and worst * 100 < args.fail_under else 0


def _batch_worker(args: argparse.Namespace) -> int:
    """Run Dramatiq workers on the batch queue (they need REDIS_URL and the app's DATABASE_URL)."""
    from server.settings import load_settings

    if not load_settings().REDIS_URL:
        print("batch-worker: set REDIS_URL to the job queue's Redis (e.g. redis://127.0.0.1:6379/0)", file=sys.stderr)
        return 2
    command = [sys.executable, "-m", "dramatiq", "server.batch.worker:broker", "--queues", "batch"]
    command += ["--processes", str(args.processes), "--threads", str(args.threads)]
    print(f"batch workers: {args.processes} processes x {args.threads} threads on the 'batch' queue", flush=True)
    os.execv(sys.executable, command)
    return 0  # pragma: no cover - execv does not return


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the API server with gunicorn")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    serve.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    serve.set_defaults(run=_serve)
    check = commands.add_parser("check-catalog", help="validate the catalog files and print their sizes")
    check.set_defaults(run=_check_catalog)
    cover = commands.add_parser(
        "catalog-coverage", help="list the model names of a reference list that the catalog does not resolve"
    )
    cover.add_argument("--csv", help="reference CSV (columns provider,name or name); default: installed EcoLogits")
    cover.add_argument("--fail-under", type=float, help="exit 1 when coverage (%%) is below this")
    cover.set_defaults(run=_catalog_coverage)
    sync = commands.add_parser(
        "sync-catalog", help="write the catalog into a spreadsheet's Models, GPUs, Nodes, Datacenters tabs"
    )
    add_sync_arguments(sync)
    worker = commands.add_parser("batch-worker", help="run the workers that estimate batch tasks (needs REDIS_URL)")
    worker.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="worker processes (default: cores)")
    worker.add_argument("--threads", type=int, default=1, help="threads per process (estimates are CPU-bound)")
    worker.set_defaults(run=_batch_worker)
    add_key_commands(commands)
    args = parser.parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
