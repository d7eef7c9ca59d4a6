"""/{user_id}/push-subscriptions: the browsers a user's reminders are pushed to (taskapi/push/sender.py)."""

import base64
import binascii
import uuid

import sqlalchemy as sa
from connexion import request
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.responses import Response

from taskapi.auth.tokens import require_owner
from taskapi.db.statements import execute, fetch_all, fetch_first, fetch_value
from taskapi.http.problems import Problem, field_error, invalid
from taskapi.push import endpoints
from taskapi.push.keys import public_key
from taskapi.push.sender import Pusher
from taskapi.tasks import store
from taskapi.tasks.answers import not_yours, private_json
from taskapi.tasks.models import to_json

MAX_PER_USER = 20

_ALL = sa.text("""
SELECT id, endpoint, created_at FROM push_subscriptions WHERE user_id = :owner_id ORDER BY created_at, id
""")
# One per endpoint: the same browser subscribing again keeps its row (with the keys it now sends). A new one only
# while the user holds fewer than MAX_PER_USER, counted under the user's lock.
_SUBSCRIBE = sa.text("""
INSERT INTO push_subscriptions AS s (user_id, endpoint, p256dh, auth)
SELECT CAST(:owner_id AS varchar), CAST(:endpoint AS text), CAST(:p256dh AS text), CAST(:auth AS text)
WHERE EXISTS (SELECT 1 FROM push_subscriptions WHERE user_id = :owner_id AND endpoint = :endpoint)
   OR (SELECT count(*) FROM push_subscriptions WHERE user_id = :owner_id) < :most
ON CONFLICT (user_id, endpoint) DO UPDATE SET p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth
RETURNING id, endpoint, created_at, xmax = 0 AS made
""")
_UNSUBSCRIBE = sa.text(
    "DELETE FROM push_subscriptions WHERE id = :subscription_id AND user_id = :owner_id RETURNING id"
)
_OWNER = sa.text("SELECT user_id FROM push_subscriptions WHERE id = :subscription_id")


def _pusher() -> Pusher:
    return request.state.pusher


def _public(row) -> dict:
    return {"id": row["id"], "endpoint": row["endpoint"], "created_at": row["created_at"]}


def _key_bytes(value: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


def _on_p256(point: bytes | None) -> bool:
    """A P-256 public key, uncompressed: 65 bytes that are a point of the curve (65 bytes that are not would make
    every push to the subscription fail at encryption)."""
    if point is None or len(point) != 65 or point[0] != 4:
        return False
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        return False
    return True


async def list_push_subscriptions(user_id: str, user: str) -> Response:
    require_owner(user_id, user)
    async with request.state.units.statement() as session:
        rows = await fetch_all(session, _ALL, {"owner_id": user_id})
    vapid = _pusher().vapid
    return private_json(
        {"items": [_public(row) for row in rows], "vapid_public_key": public_key(vapid) if vapid else None}
    )


async def create_push_subscription(user_id: str, body: dict, user: str) -> Response:
    require_owner(user_id, user)
    if _pusher().vapid is None:
        raise Problem(
            409,
            "This service sends no push messages (VAPID_PRIVATE_KEY is not set): reminders reach open event streams.",
            kind="push-not-configured",
        )
    errors = []
    try:
        await endpoints.check(body["endpoint"], request.state.settings.push_allow_local_endpoints)
    except endpoints.Refused as refused:
        errors.append(field_error("body", "endpoint", str(refused)))
    auth = _key_bytes(body["keys"]["auth"])
    if not _on_p256(_key_bytes(body["keys"]["p256dh"])):
        message = "must be the browser's P-256 public key (a point on the curve, 65 bytes, base64url)"
        errors.append(field_error("body", "keys.p256dh", message))
    if auth is None or len(auth) != 16:
        errors.append(
            field_error("body", "keys.auth", "must be the browser's authentication secret (16 bytes, base64url)")
        )
    if errors:
        raise invalid(errors)
    params = {"owner_id": user_id, "most": MAX_PER_USER, "endpoint": body["endpoint"], **body["keys"]}
    async with request.state.units.transaction() as session:
        await execute(session, store.LOCK_USER, {"owner_id": user_id})
        row = await fetch_first(session, _SUBSCRIBE, params)
    if row is None:
        raise Problem(
            409,
            f"You already have {MAX_PER_USER} push subscriptions, the most a user may; remove one first.",
            kind="push-subscription-quota-exceeded",
            extra={"limit": MAX_PER_USER},
        )
    status, headers = (
        (201, {"Location": f"/api/{user_id}/push-subscriptions/{row['id']}"}) if row["made"] else (200, {})
    )
    return Response(to_json(_public(row)), status_code=status, media_type="application/json", headers=headers)


async def delete_push_subscription(user_id: str, subscription_id: str, user: str) -> Response:
    require_owner(user_id, user)
    params = {"subscription_id": uuid.UUID(subscription_id), "owner_id": user_id}
    async with request.state.units.statement() as session:
        if not await fetch_all(session, _UNSUBSCRIBE, params):
            owner = await fetch_value(session, _OWNER, params)
            if owner is not None:
                raise not_yours(subscription_id, "push subscription")
            raise Problem(404, f"No push subscription with id {subscription_id} exists; it may have been removed.")
    return Response(status_code=204)
