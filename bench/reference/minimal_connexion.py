"""Reference row of `make bench`: the smallest Connexion 3 app with the list's shape (one operation, bearer
security, strict validation) over a psycopg pool and orjson: what this design costs before any of ours."""

import jwt
from connexion import AsyncApp
from connexion.exceptions import OAuthProblem
from starlette.responses import Response

from common import lifespan_of, list_page, make_pool, user_of

pool = make_pool()
SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "reference", "version": "1"},
    "servers": [{"url": "/api"}],
    "components": {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "x-bearerInfoFunc": "minimal_connexion.verify"}
        }
    },
    "security": [{"bearerAuth": []}],
    "paths": {
        "/{user_id}/tasks": {
            "get": {
                "operationId": "minimal_connexion.list_tasks",
                "parameters": [
                    {
                        "name": "user_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,128}$"},
                    },
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                ],
                "responses": {"200": {"description": "a page"}},
            }
        }
    },
}


async def verify(token: str) -> dict:
    try:
        return {"sub": user_of(token)}
    except jwt.InvalidTokenError:
        raise OAuthProblem(detail="invalid token") from None


async def list_tasks(user_id: str, user: str, limit: int = 50) -> Response:
    if user != user_id:
        return Response(status_code=403)
    return Response(await list_page(pool, user, limit), media_type="application/json")


app = AsyncApp(__name__, lifespan=lifespan_of(pool))
app.add_api(SPEC, strict_validation=True)
