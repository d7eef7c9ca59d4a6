"""Local mode: with the embedded database and no auth configured, a generated HS256 secret in .data/."""

import os
import secrets
import time

import jwt

from taskapi.db.embedded import DATA_DIR

LOCAL_ISSUER = "taskapi-local"
SECRET_FILE = DATA_DIR / "local-auth-secret"
CURSOR_SECRET_FILE = DATA_DIR / "local-cursor-secret"


def _local_secret(path) -> str:
    """A random secret kept in .data/, made on first use (only the project's own embedded set-up uses it)."""
    if not path.exists():
        DATA_DIR.mkdir(exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def local_secret() -> str:
    return _local_secret(SECRET_FILE)


def enable_local_auth() -> None:
    """Configure the environment the way a shared-secret deployment would be, with a generated secret."""
    os.environ["BETTER_AUTH_SECRET"] = local_secret()
    os.environ["JWT_ISSUER"] = os.environ["JWT_AUDIENCE"] = LOCAL_ISSUER


def enable_local_cursor_secret() -> None:
    """With the embedded database, cursors are signed with a generated secret unless CURSOR_SECRET is set (JWKS
    mode requires one; production sets its own)."""
    os.environ.setdefault("CURSOR_SECRET", _local_secret(CURSOR_SECRET_FILE))


def auth_is_configured() -> bool:
    return any(os.environ.get(name) for name in ("BETTER_AUTH_URL", "BETTER_AUTH_SECRET", "JWT_JWKS_URL"))


def local_token(user_id: str, lifetime_seconds: int = 3600) -> str:
    """A token for the local server, shaped like Better Auth's (sub, iss, aud, iat, exp)."""
    now = int(time.time())
    claims = {"sub": user_id, "iss": LOCAL_ISSUER, "aud": LOCAL_ISSUER, "iat": now, "exp": now + lifetime_seconds}
    return jwt.encode(claims, local_secret(), algorithm="HS256")
