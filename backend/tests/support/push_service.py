"""A push service on this machine for the tests (RFC 8030's receiving end): it takes the pushes the API sends,
checks their VAPID signature (RFC 8292: ES256, the endpoint's origin as audience, an expiry within 24 hours) and
decrypts them (RFC 8291, aes128gcm) with the private key of the browser it stands for. No mock of the sender:
the real protocol, end to end."""

import base64
import json
import os
import queue
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Browser:
    """One browser's subscription: its endpoint at the push service, and the keys only it holds."""

    def __init__(self, service: "PushService") -> None:
        self.token = uuid.uuid4().hex
        self.endpoint = f"{service.origin}/push/{self.token}"
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.received: queue.Queue = queue.Queue()

    def subscription(self) -> dict:
        """What `PushSubscription.toJSON()` gives, for POST …/push-subscriptions."""
        public = self.private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
        }

    def next(self, timeout: float = 5) -> dict:
        """The next push, decrypted and checked: {"data", "headers" (lower-case names), "claims", "public_key"}; fails
        the test if none comes."""
        try:
            return self.received.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no push within {timeout} s") from None


class PushService:
    """Answers each push with `answers` in turn (then 201): a status, "hang" (no answer for a minute), or a redirect
    (status, Location)."""

    def __init__(self) -> None:
        self.browsers: dict[str, Browser] = {}
        self.answers: list[int | str | tuple[int, str]] = []
        self.attempts = 0
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                browser = service.browsers.get(self.path.rsplit("/", 1)[-1])
                if browser is None:  # for a service that had this port before (the tests' database is shared)
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                service.attempts += 1
                answer = service.answers.pop(0) if service.answers else 201
                if answer == "hang":
                    time.sleep(60)
                    return
                if answer == 201:
                    browser.received.put(service.opened(browser, {k.lower(): v for k, v in self.headers.items()}, body))
                status, location = answer if isinstance(answer, tuple) else (answer, None)
                self.send_response(int(status))
                self.send_header("Content-Length", "0")
                if location is not None:
                    self.send_header("Location", location)
                if answer == 429:
                    self.send_header("Retry-After", "1")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def browser(self) -> Browser:
        browser = Browser(self)
        self.browsers[browser.token] = browser
        return browser

    def opened(self, browser: Browser, headers: dict, body: bytes) -> dict:
        scheme, _, params = headers["authorization"].partition(" ")
        assert scheme == "vapid", headers["authorization"]
        fields = dict(part.strip().split("=", 1) for part in params.split(","))
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(fields["k"]))
        # The audience is the endpoint's origin, as the sender wrote it (127.0.0.1 or localhost).
        claims = jwt.decode(fields["t"], key, algorithms=["ES256"], audience=f"http://{headers['host']}")
        assert claims["exp"] - time.time() <= 24 * 3600, "a VAPID token may last 24 hours at most"
        assert headers["content-encoding"] == "aes128gcm"
        data = http_ece.decrypt(body, private_key=browser.private_key, auth_secret=browser.auth, version="aes128gcm")
        return {"data": json.loads(data), "headers": headers, "claims": claims, "public_key": fields["k"]}

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
