"""A webhook load generator, run as its own process on loopback:

    python -m bench.loadgen --url URL --verifier TOKEN --realm ID --customers 1,2,3
        [--rate 300] [--seconds 10] [--warmup 2] [--threads 32]

Offers `rate` deliveries a second for `warmup` then `seconds` (open loop: each thread sends
on a fixed schedule, whatever the answers' pace), each a signed CloudEvents body with one
customer event of a new id, as Intuit sends them. Prints JSON: answers by status, latencies
(from sending to the full answer, connecting included) and how far behind schedule sending
fell, for the measured `seconds`; and the warm-up's answers by status. The warm-up is the
server's first second or two, when each of its threads opens its database connection: a
deployment serving all day is measured, not its start.
"""

import argparse
import http.client
import json
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sandbox.quickbooks import events

TIMEOUT = 10.0


@dataclass
class Change:
    """One customer change, as the sandbox's QuickBooks records it."""

    event_id: uuid.UUID
    realm_id: str
    customer_id: str
    operation: str
    deleted_id: str
    occurred_at: datetime
    entity: str = "Customer"


@dataclass(frozen=True)
class Answer:
    seconds: float
    status: int | None  # None: no answer (connection refused, reset, timed out)
    behind: float  # how late it was sent
    measured: bool  # sent after the warm-up


def delivery(*, realm_id: str, customer_id: str, verifier: str, source: str) -> tuple[bytes, dict]:
    change = Change(uuid.uuid4(), realm_id, customer_id, "updated", "", datetime.now(UTC))
    body = events.body(changes=[change], webhook_format=events.CLOUDEVENTS, source=source)
    headers = {
        "Content-Type": "application/json",
        "intuit-signature": events.sign(body=body, verifier_token=verifier),
    }
    return body, headers


def sender(args: argparse.Namespace, index: int, began: float, answers: list[Answer]) -> None:
    target = urlsplit(args.url)
    source = events.event_source(target_url=args.url)
    customers = args.customers.split(",")
    connection: http.client.HTTPConnection | None = None
    for number in range(index, int(args.rate * (args.warmup + args.seconds)), args.threads):
        due = began + number / args.rate
        time.sleep(max(0.0, due - time.perf_counter()))
        body, headers = delivery(
            realm_id=args.realm,
            customer_id=random.choice(customers),
            verifier=args.verifier,
            source=source,
        )
        sent = time.perf_counter()
        status = None
        try:
            if connection is None:
                connection = http.client.HTTPConnection(
                    target.hostname, target.port, timeout=TIMEOUT
                )
            connection.request("POST", target.path, body=body, headers=headers)
            answer = connection.getresponse()
            answer.read()
            status = answer.status
            if answer.will_close:
                connection.close()
                connection = None
        except (OSError, http.client.HTTPException):
            if connection is not None:
                connection.close()
            connection = None
        measured = due - began >= args.warmup
        answers.append(Answer(time.perf_counter() - sent, status, sent - due, measured))
    if connection is not None:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--verifier", required=True)
    parser.add_argument("--realm", required=True)
    parser.add_argument("--customers", required=True, help="customer ids, comma separated")
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--threads", type=int, default=32)
    args = parser.parse_args()

    answers: list[Answer] = []  # list.append is atomic: the threads share it
    began = time.perf_counter() + 0.2
    threads = [
        threading.Thread(target=sender, args=(args, index, began, answers))
        for index in range(args.threads)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began - args.warmup
    measured = [answer for answer in answers if answer.measured]
    print(
        json.dumps(
            {
                "elapsed": elapsed,
                "statuses": _statuses(measured),
                "warmup_statuses": _statuses([a for a in answers if not a.measured]),
                "latencies": sorted(a.seconds for a in measured if a.status is not None),
                "behind": sorted(a.behind for a in measured),
            }
        )
    )


def _statuses(answers: list[Answer]) -> dict[str, int]:
    return dict(Counter(str(answer.status) for answer in answers))


if __name__ == "__main__":
    main()
