"""A client of GET /{user_id}/events, read in a thread: events (and the stream's end) come out of a queue."""

import json
import queue
import socket
import threading

import httpx

ENDED = {"event": "<ended>"}


class EventStream:
    def __init__(self, base_url: str, user_id: str, token: str, last_event_id: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}", **({"Last-Event-ID": last_event_id} if last_event_id else {})}
        self._client = httpx.Client(base_url=base_url, headers=headers, timeout=httpx.Timeout(10, read=None))
        self._response = self._client.send(self._client.build_request("GET", f"/{user_id}/events"), stream=True)
        self.status = self._response.status_code
        self.local_port = self._response.extensions["network_stream"].get_extra_info("client_addr")[1]
        self.events: queue.Queue = queue.Queue()
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        event: dict = {}
        try:
            for line in self._response.iter_lines():
                if line == "":
                    if "event" in event:
                        self.events.put({**event, "data": json.loads(event["data"])})
                    event = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(": ")
                    event[name] = value
        except httpx.HTTPError:
            pass
        self.events.put(ENDED)

    def next(self, timeout: float = 3.0) -> dict:
        """The next event, or ENDED; fails the test if none comes within `timeout` seconds."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout} s") from None

    def problem(self) -> dict:
        return json.loads(self._response.read())

    def close(self) -> None:
        """Hang up, as a browser tab does when it closes. (Closing alone would wait for the reading thread's
        blocked read to return: a shutdown wakes it, and the server sees the connection end.)"""
        try:
            self._response.extensions["network_stream"].get_extra_info("socket").shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._response.close()
        self._client.close()

    def __enter__(self) -> "EventStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_stream(server, user) -> EventStream:
    """The user's stream on `server`, past its `ready` event."""
    stream = EventStream(server.url + "/api", user.id, user.token)
    assert stream.status == 200, stream.problem()
    ready = stream.next()
    assert ready["event"] == "ready" and ready["data"] == {}
    return stream


def changes_since(user, since: str) -> list[dict]:
    """What the user's change feed holds after `since`."""
    answer = user.client.get(f"/{user.id}/changes", params={"since": since})
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]
