"""GET /healthz (the process answers) and GET /readyz (it can serve: database and signing keys reachable)."""

from connexion import request
from starlette.responses import JSONResponse

from taskapi.http.problems import unavailable


async def get_health() -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def get_readiness() -> JSONResponse:
    checks = {"database": await request.state.db.probe()}
    checks["signing_keys"] = await request.state.verifier.readiness()
    failing = [name for name, state in checks.items() if state not in ("ok", "not used")]
    if failing:
        raise unavailable(f"Not ready: {', '.join(f'{name} {checks[name]}' for name in failing)}.")
    return JSONResponse({"status": "ready", "checks": checks})
