"""Reference row of `make bench`: a bare Starlette route doing the list's work (token, owner, query, JSON)
with a psycopg pool and orjson. The ceiling for Python on this machine: no contract, no validation."""

import jwt
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from common import lifespan_of, list_page, make_pool, user_of

pool = make_pool()


async def list_tasks(request) -> Response:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    try:
        user = user_of(token) if scheme.lower() == "bearer" else None
    except jwt.InvalidTokenError:
        user = None
    if user is None:
        return Response(status_code=401)
    if user != request.path_params["user_id"]:
        return Response(status_code=403)
    limit = int(request.query_params.get("limit", "50"))
    return Response(await list_page(pool, user, limit), media_type="application/json")


app = Starlette(routes=[Route("/api/{user_id}/tasks", list_tasks)], lifespan=lifespan_of(pool))
