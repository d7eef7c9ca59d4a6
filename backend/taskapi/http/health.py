"""GET /healthz (the process answers) and GET /readyz (it can serve: database and signing keys reachable)."""

import asyncio

import sqlalchemy as sa
from connexion import request
from starlette.responses import JSONResponse

from taskapi.http.problems import unavailable

READINESS_TIMEOUT_SECONDS = 3


async def get_health() -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def _database() -> str:
    async with asyncio.timeout(READINESS_TIMEOUT_SECONDS), request.state.db.engine.connect() as connection:
        await connection.execute(sa.text("SELECT 1"))
    return "ok"


async def get_readiness() -> JSONResponse:
    checks = {}
    try:
        checks["database"] = await _database()
    except Exception as error:
        checks["database"] = f"unreachable ({type(error).__name__})"
    checks["signing_keys"] = await request.state.verifier.readiness()
    failing = [name for name, state in checks.items() if state not in ("ok", "not used")]
    if failing:
        raise unavailable(f"Not ready: {', '.join(f'{name} {checks[name]}' for name in failing)}.")
    return JSONResponse({"status": "ready", "checks": checks})
