"""`python -m taskapi.cli run|migrate|purge|token`: what the Makefile's run, migrate, purge and token targets call."""

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import warnings
from pathlib import Path

from taskapi.auth.local import auth_is_configured, enable_local_auth, enable_local_cursor_secret, local_token
from taskapi.http.logs import LOG_CONFIG
from taskapi.settings import SettingsError, load_settings

# Emitted on import by Connexion 3.3 and platformdirs; nothing an operator can act on.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"


def _use_embedded_database_if_unset() -> bool:
    if os.environ.get("DATABASE_URL"):
        return False
    from taskapi.db.embedded import embedded_database

    os.environ["DATABASE_URL"] = embedded_database(
        os.environ.get("EMBEDDED_DATABASE", "taskapi"), cluster=os.environ.get("EMBEDDED_CLUSTER", "postgres")
    )
    return True


def migrate(database_url: str | None = None) -> None:
    """Apply every migration, to `database_url` or to what the environment names (see migrations/env.py)."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(ALEMBIC_INI))
    config.attributes["database_url"] = database_url
    command.upgrade(config, "head")


def run() -> None:
    import uvicorn

    embedded = _use_embedded_database_if_unset()
    local_mode = embedded and not auth_is_configured()
    if local_mode:
        enable_local_auth()
    if embedded:
        enable_local_cursor_secret()
    try:
        load_settings()
    except SettingsError as error:
        sys.exit(f"taskapi: cannot start: {error}")
    migrate()
    host, port = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "8000"))
    base = f"http://{host}:{port}/api"
    print(f"Task API on {base}  (contract {base}/openapi.json, Swagger UI {base}/ui/)", flush=True)
    if local_mode:
        print(
            "Local mode: tokens come from `make token USER=alice`, e.g.\n"
            f'  curl -H "Authorization: Bearer $(make -s token USER=alice)" {base}/alice/tasks',
            flush=True,
        )
    # uvicorn drains on SIGTERM and then raises the signal again with the handler it found: with this one,
    # that ends in a normal exit, so exit handlers run and the embedded Postgres this process started stops.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker writes its metrics here and /metrics merges them, whichever worker answers.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="taskapi-metrics-")
    uvicorn.run(
        "taskapi.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # On SIGTERM no new connection is accepted and in-flight requests finish (up to 10 s).
        timeout_graceful_shutdown=10,
        server_header=False,
        proxy_headers=True,
        log_config=LOG_CONFIG,
        access_log=False,
    )


def purge(apply_lower_trash_limit: bool) -> None:
    """One sweep now (taskapi/sync/purge.py), whenever the last one ran; prints what it removed. With
    `apply_lower_trash_limit`, a MAX_TASKS_PER_USER lowered since the last sweeps applies to trash too."""
    from taskapi.sync.purge import purge_once

    if _use_embedded_database_if_unset() and not auth_is_configured():
        enable_local_auth()
    try:
        settings = load_settings()
    except SettingsError as error:
        sys.exit(f"taskapi: cannot purge: {error}")

    removed = asyncio.run(purge_once(settings, apply_lower_trash_limit=apply_lower_trash_limit))
    if removed is None:
        print("Another worker is sweeping right now; nothing done.")
    else:
        print(", ".join(f"{name.replace('_', ' ')}: {removed[name]}" for name in removed) or "Nothing to remove.")


def print_vapid_keys() -> None:
    """A new key pair: the private key for the service's environment (a secret: every replica the same one), the
    public key for reading (GET …/push-subscriptions serves it to browsers)."""
    from py_vapid import Vapid

    from taskapi.push.keys import new_private_key, public_key

    private = new_private_key()
    print(f"VAPID_PRIVATE_KEY={private}")
    print(f"# public key (applicationServerKey): {public_key(Vapid.from_string(private))}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="taskapi")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="apply migrations and serve (embedded Postgres if DATABASE_URL is unset)")
    commands.add_parser("migrate", help="apply migrations (DATABASE_URL_DIRECT, else DATABASE_URL)")
    sweep = commands.add_parser(
        "purge", help="sweep now: expired trash, forgotten deletions, old Idempotency-Key records"
    )
    sweep.add_argument(
        "--apply-lower-trash-limit",
        action="store_true",
        help="destroy trash beyond a MAX_TASKS_PER_USER lowered since the last sweeps, however recent",
    )
    token = commands.add_parser("token", help="print a local-mode token for a user")
    token.add_argument("--user", required=True)
    commands.add_parser("vapid-keys", help="print a new VAPID key pair for Web Push")
    args = parser.parse_args()
    if args.command == "run":
        run()
    elif args.command == "migrate":
        _use_embedded_database_if_unset()
        migrate()
    elif args.command == "purge":
        purge(args.apply_lower_trash_limit)
    elif args.command == "vapid-keys":
        print_vapid_keys()
    else:
        print(local_token(args.user))


if __name__ == "__main__":
    main()
