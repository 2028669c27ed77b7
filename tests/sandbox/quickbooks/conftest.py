"""Companies connected through the real Intuit flow, and a local webhook receiver."""

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from tests.sandbox.intuit import conftest as intuit
from tests.sandbox.intuit.conftest import Browser, Identity, connect

# The Intuit tests' fixtures, offered to these tests too.
seed_identity = intuit.seed_identity
auth_client = intuit.auth_client
app_registration = intuit.app_registration


def fault_of(answer: requests.Response) -> dict:
    body = answer.json()
    assert "time" in body
    return body["Fault"]


@dataclass
class Company:
    """A sandbox company connected to the app, with a live accounting access token."""

    sandbox: Any
    identity: Identity
    realm_id: str
    access_token: str
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def api(self) -> str:
        return f"{self.sandbox.url}/quickbooks/v3/company/{self.realm_id}"

    @property
    def control(self) -> str:
        return f"{self.sandbox.url}/_sandbox/quickbooks/{self.realm_id}"

    def get(self, path: str, token: str | None = None, **params: Any) -> requests.Response:
        headers = {
            "Authorization": f"Bearer {token or self.access_token}",
            "Accept": "application/json",
        }
        return self.http.get(
            f"{self.api}/{path}",
            params={**params, "minorversion": "75"},
            headers=headers,
            timeout=30,
        )

    def query(self, text: str, **kwargs: Any) -> requests.Response:
        return self.get("query", query=text, **kwargs)

    def create(self, customers: Any) -> Any:
        answer = requests.post(f"{self.control}/customers", json=customers, timeout=30)
        assert answer.status_code == 201, answer.text
        return answer.json()

    def change(self, path: str, body: Any = None) -> requests.Response:
        return requests.post(f"{self.control}/customers/{path}", json=body or {}, timeout=30)

    def all_customers(self) -> list[dict]:
        answer = requests.get(f"{self.control}/customers", timeout=60)
        assert answer.status_code == 200, answer.text
        return answer.json()["Customer"]

    def seed(self, count: int, random_seed: int = 0) -> None:
        answer = requests.post(
            f"{self.control}/seed", json={"count": count, "random_seed": random_seed}, timeout=120
        )
        assert answer.json() == {"created": count}, answer.text


def sell(company: "Company", customer_id: str | None, **body: Any) -> dict:
    """A sale for the customer (None: a receipt for no customer)."""
    path = f"customers/{customer_id}/sales" if customer_id else "sales"
    answer = requests.post(f"{company.control}/{path}", json=body, timeout=30)
    assert answer.status_code == 201, answer.text
    ((entity, row),) = answer.json().items()
    return row


def act(company, transaction_id: str, action: str, **body) -> requests.Response:
    return requests.post(
        f"{company.control}/transactions/{transaction_id}/{action}", json=body, timeout=30
    )


def customer(company, customer_id: str) -> dict:
    return company.get(f"customer/{customer_id}").json()["Customer"]


def report(company, name: str, **params) -> dict:
    answer = company.get(f"reports/{name}", **params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def prefer(company: "Company", **preferences: Any) -> dict:
    """Set the company's preferences (MultiCurrencyEnabled, HomeCurrency, Language)."""
    answer = requests.post(f"{company.control}/preferences", json=preferences, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture
def shop(company, unthrottled):
    """A parent with a job, and a customer with nothing."""
    parent, other = company.create([{"DisplayName": "Parent Co"}, {"DisplayName": "Nobody"}])
    job = company.create({"DisplayName": "Kitchen", "ParentRef": {"value": parent["Id"]}})
    return company, parent["Id"], job["Id"], other["Id"]


@pytest.fixture
def connect_company(sandbox, seed_identity, auth_client) -> Callable[[], Company]:
    """Make a fresh company and connect it to the app through Intuit's authorize pages."""

    def make() -> Company:
        identity = seed_identity()
        auth = auth_client()
        query = connect(sandbox, Browser(sandbox), auth, identity)
        auth.get_bearer_token(query["code"], realm_id=query["realmId"])
        return Company(sandbox, identity, query["realmId"], auth.access_token)

    return make


@pytest.fixture
def company(connect_company) -> Company:
    return connect_company()


@pytest.fixture
def unthrottled(knobs):
    """Lift the per-company request limits for tests that are about something else."""
    knobs(enforce_rate_limits=False)


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
