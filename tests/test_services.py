"""One services object (`server.services.build_services`) for the app, the batch workers and the command line, and
one way from a key or an account to its principal and catalog view (`CatalogViews.caller`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from server.accounts.keys import create_key
from server.services import build_services
from server.settings import load_settings
from tests.conftest import ADMIN_KEY, settings_for_tests

ROOT = Path(__file__).resolve().parents[1]


def test_a_key_and_its_account_give_one_principal_and_view(tmp_path: Path) -> None:
    services = build_services(load_settings(settings_for_tests(f"sqlite:///{tmp_path / 's.sqlite3'}")))
    try:
        assert services.queue is None  # no REDIS_URL
        with services.db.write() as session:
            key = create_key(session, "acme")
        by_key = services.views.caller(key=key)
        assert by_key is not None and by_key.principal.account_name == "acme" and not by_key.principal.is_admin
        by_name = services.views.caller(account="acme")
        by_id = services.views.caller(account=by_key.principal.account_id)
        assert by_name is not None and by_id is not None
        assert by_name.view is by_key.view is by_id.view  # one cached view per account and catalog version
        admin = services.views.caller(key=ADMIN_KEY)
        assert admin is not None and admin.principal.is_admin
        assert services.views.caller(key="s3ai_no-such-key-0000000000") is None
        assert services.views.caller(account="nobody") is None
        assert services.views.caller(account=10_000) is None
    finally:
        services.db.dispose()


def test_the_batch_worker_builds_its_services_not_the_flask_app(tmp_path: Path, redis_url: str) -> None:
    probe = (
        "import sys\n"
        "import server.batch.worker as worker\n"
        "assert type(worker.services).__name__ == 'Services' and worker.services.queue is not None\n"
        "loaded = ('server.app', 'server.api.http', 'flask', 'werkzeug')\n"
        "print(sorted(name for name in loaded if name in sys.modules))\n"
    )
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'w.sqlite3'}", "REDIS_URL": redis_url}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
