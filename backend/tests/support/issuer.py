"""A stand-in for Better Auth's JWT plugin: signing keys, a JWKS endpoint the tests control, tokens."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

ISSUER = "http://127.0.0.1:3000"  # Better Auth: iss = aud = the app's base URL
SHARED_SECRET = "test-shared-secret-that-is-long-enough-0123456789"
CURSOR_SECRET = "test-cursor-secret-that-is-long-enough-0123456789"
# Not a user token: what the Prometheus scraper sends for /metrics.
METRICS_TOKEN = "test-metrics-token-0123456789"


class SigningKey:
    def __init__(self, alg: str, kid: str | None = None) -> None:
        self.alg = alg
        self.kid = kid or f"{alg.lower()}-{uuid.uuid4().hex[:8]}"
        self.private = {
            "EdDSA": lambda: ed25519.Ed25519PrivateKey.generate(),
            "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
            "RS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
        }[alg]()

    def public_jwk(self) -> dict:
        algorithm = jwt.get_algorithm_by_name(self.alg)
        jwk = json.loads(algorithm.to_jwk(self.private.public_key()))
        # Better Auth's keys carry kid and alg, and no `use`.
        return {**jwk, "kid": self.kid, "alg": self.alg}


class Issuer:
    """Serves /api/auth/jwks on loopback; tests change `keys` or set `down` to simulate outages."""

    def __init__(self) -> None:
        self.keys = [SigningKey("EdDSA"), SigningKey("ES256"), SigningKey("RS256")]
        self.down = False
        self.fetches = 0
        # What the JWKS answer's Cache-Control says, if anything.
        self.cache_control: str | None = None
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.fetches += 1
                if issuer.down or self.path != "/api/auth/jwks":
                    self.send_error(503 if issuer.down else 404)
                    return
                body = json.dumps({"keys": [key.public_jwk() for key in issuer.keys]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if issuer.cache_control:
                    self.send_header("Cache-Control", issuer.cache_control)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()

    @property
    def ed25519(self) -> SigningKey:
        return self.keys[0]

    def token(self, sub: str | None, *, key: SigningKey | None = None, lifetime: int = 900, **overrides) -> str:
        """A token shaped like Better Auth's; `overrides` replaces or (with None) removes claims."""
        key = key or self.ed25519
        now = int(time.time())
        claims = {
            "sub": sub,
            "iss": ISSUER,
            "aud": ISSUER,
            "iat": now,
            "exp": now + lifetime,
            "email": "someone@example.com",
            "name": "Someone",
        }
        claims.update(overrides)
        claims = {name: value for name, value in claims.items() if value is not None}
        return jwt.encode(claims, key.private, algorithm=key.alg, headers={"kid": key.kid})


def hs256_token(sub: str, *, secret: str = SHARED_SECRET, lifetime: int = 900, **overrides) -> str:
    now = int(time.time())
    claims = {"sub": sub, "iss": ISSUER, "aud": ISSUER, "iat": now, "exp": now + lifetime, **overrides}
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm="HS256")
