"""A local webhook endpoint: what the sandbox's QuickBooks delivers to the app's webhook URL,
recorded (the sandbox's webhook tests, the sync's delivery tests)."""

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """A webhook endpoint: records every POST and answers the next planned status."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.statuses: list[int] = []  # answered in order; 200 once they run out
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.deliveries.append(Delivery(dict(self.headers.items()), body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/quickbooks/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 10) -> list[Delivery]:
        """The deliveries, once there are at least `count` of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.deliveries) >= count:
                    return list(self.deliveries)
            time.sleep(0.05)
        raise AssertionError(f"{len(self.deliveries)} deliveries, expected {count}")

    def wait_for_cloud_events(self, count: int, timeout: float = 10) -> list[dict]:
        """Every CloudEvent received, once there are at least `count` of them."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                received = [event for delivery in self.deliveries for event in delivery.json()]
            if len(received) >= count:
                return received
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(received)} events, expected {count}")
            time.sleep(0.05)


@pytest.fixture
def receiver(app_registration) -> Iterator[Receiver]:
    """A local webhook endpoint registered as the app's webhook URL for one test."""
    endpoint = Receiver()
    app_registration(webhook_url=endpoint.url)
    yield endpoint
    endpoint.server.shutdown()
    endpoint.server.server_close()
