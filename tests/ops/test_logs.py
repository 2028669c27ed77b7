"""Structured logs: the scrubber, the JSON lines, and a full install, first sync and change
against the sandbox at DEBUG with every logger on, scanned for tokens, addresses and names."""

import copy
import io
import json
import logging
import logging.config

import pytest
from django.conf import settings

from ccsync.base.logs import JsonFormatter, log_context, scrub
from ccsync.sync.models import Run
from tenants import crypto
from tests.plugins.companies import person


@pytest.mark.parametrize(
    "secret",
    [
        "ann.lee+news@example.co.uk",
        "ann%40example.com",
        "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLXZhbHVl",
        "AB11" + "x7Yq2Lm9Pz4Rt8Vw1Nb5Kc3Hd6Jf0Gs" + "Ue",
        "gAAAAABmZ3-rS8vKpN2xQ9cT7wLm4YfH1jD6bE0uZaRiOkWnVyXgUhJ",
    ],
)
def test_scrub_removes_addresses_and_tokens(secret):
    assert secret not in scrub(f"call failed for {secret} here")


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("refresh_token=AB11short&grant_type=refresh_token", "AB11short"),
        ("{'access_token': 'abc.def', 'expires_in': 3600}", "abc.def"),
        ('{"client_secret": "s3cr3t"}', "s3cr3t"),
        ("Authorization: Basic c2FuZGJveDpzZWNyZXQ=", "c2FuZGJveDpzZWNyZXQ="),
    ],
)
def test_scrub_removes_named_secrets(text, hidden):
    assert hidden not in scrub(text)


def test_scrub_keeps_what_operators_need():
    text = (
        "Task sync.run[4f0c2a9e-8a51-4f7e-9a8b-2d7c1e0f3b6a] succeeded; "
        "hash 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08; "
        "GET /v3/company/9130357766218536/query?minorversion=75 HTTP/1.1 200; "
        "integrations.constantcontact.errors.QuotaExceeded"
    )
    assert scrub(text) == text


def test_json_lines_carry_the_tenant_and_run():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    config = settings.LOGGING["filters"]
    handler.addFilter(logging.config.DictConfigurator({}).configure_filter(config["context"]))
    handler.addFilter(logging.config.DictConfigurator({}).configure_filter(config["scrub"]))
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("tests.ops.json")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        with log_context(tenant=7, run=42):
            log.info("sent %s to %s", 3, "amy@example.com")
            try:
                raise ValueError("bad address bo@example.com")
            except ValueError:
                log.exception("it failed")
        log.info("outside")
    finally:
        log.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["tenant_id"], line["run_id"]) for line in lines] == [(7, 42)] * 2 + [(None,) * 2]
    assert lines[0]["message"] == "sent 3 to [email]"
    assert lines[0]["level"] == "INFO" and lines[0]["logger"] == "tests.ops.json"
    assert "ValueError: bad address [email]" in lines[1]["exception"]


def _celery_lines(stream: io.StringIO, *, level: int) -> list[dict]:
    """Celery's own lines for sync.dispatch (every 2 s) and sync.recover_runs (every
    minute), as beat and the worker log them, through the app's console handler with the
    logger at `level` (what `-l info` or LOG_LEVEL=DEBUG sets)."""
    from celery.app.trace import LOG_RECEIVED, LOG_SUCCESS

    config = copy.deepcopy(settings.LOGGING)
    config["handlers"]["console"].update(formatter="json", stream=stream)
    config["root"]["level"] = logging.getLevelName(level)
    logging.config.dictConfig(config)
    try:
        for task in ("sync.dispatch", "sync.recover_runs"):
            context = {"id": "6c1d3e2a-0b7f-4d21-9a57-5c0f2e8b9d11", "name": task}
            logging.getLogger("celery.beat").info(
                "Scheduler: Sending due task %s (%s)", task.replace(".", "-"), task
            )
            logging.getLogger("celery.worker.strategy").info(LOG_RECEIVED, context)
            logging.getLogger("celery.app.trace").info(
                LOG_SUCCESS, {**context, "runtime": 0.004, "return_value": "None"}
            )
    finally:
        logging.config.dictConfig(settings.LOGGING)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_beats_routine_dispatch_logs_at_debug_every_other_task_at_info():
    """A quiet log (the demo's, `-l info`) says nothing every 2 seconds: beat's sending of
    sync.dispatch and the worker's lines about it are DEBUG; another task's stay INFO."""
    quiet = _celery_lines(io.StringIO(), level=logging.INFO)
    assert [(line["level"], line["message"]) for line in quiet] == [
        ("INFO", "Scheduler: Sending due task sync-recover_runs (sync.recover_runs)"),
        ("INFO", "Task sync.recover_runs[6c1d3e2a-0b7f-4d21-9a57-5c0f2e8b9d11] received"),
        (
            "INFO",
            "Task sync.recover_runs[6c1d3e2a-0b7f-4d21-9a57-5c0f2e8b9d11] succeeded in "
            "0.004s: None",
        ),
    ]
    verbose = _celery_lines(io.StringIO(), level=logging.DEBUG)
    dispatch = [line["level"] for line in verbose if "sync.dispatch" in line["message"]]
    assert dispatch == ["DEBUG"] * 3


@pytest.fixture
def captured_logs(monkeypatch):
    """Every record of every logger, at DEBUG, through the app's own handler (JSON, filters)
    into a buffer; the libraries that are kept at INFO in production are at DEBUG too."""
    stream = io.StringIO()
    config = copy.deepcopy(settings.LOGGING)
    config["handlers"]["console"].update(formatter="json", stream=stream)
    config["root"]["level"] = "DEBUG"
    config["loggers"] = {name: {"level": "DEBUG"} for name in config["loggers"]}
    logging.config.dictConfig(config)
    yield stream
    logging.config.dictConfig(settings.LOGGING)


@pytest.fixture
def tokens(monkeypatch) -> list[str]:
    """Every token the app stores (encrypts) during the test, rotated ones included."""
    seen: list[str] = []
    encrypt = crypto.encrypt

    def recording(value: str) -> str:
        seen.append(value)
        return encrypt(value)

    monkeypatch.setattr(crypto, "encrypt", recording)
    return seen


def test_no_token_address_or_name_in_the_logs_of_a_full_run(
    install, captured_logs, tokens, sandbox
):
    customers = [
        person("Amy Lauterbach", "Amy.Lauterbach@example.com", CompanyName="Bird Sanctuary"),
        person("Bjorn Oxenstierna", "bjorn+news@example.org"),
        person("Inactive Ingrid", "ingrid@example.net", Active=False),
        person("Nobody Noemail"),
    ]
    company = install(*customers)
    start = captured_logs.tell()
    run = company.run()
    assert run.state == Run.State.COMPLETED, run.error
    sync_lines = captured_logs.getvalue()[start:].splitlines()

    amy = company.customer_id("Amy Lauterbach")
    company.change(amy, PrimaryEmailAddr={"Address": "amy.new@example.com"}, Title="Warden")
    assert company.webhook(("updated", amy)) == 200
    change = company.sync_changes()
    assert change.state == Run.State.COMPLETED and change.synced == 1, change.error

    lines = [json.loads(line) for line in captured_logs.getvalue().splitlines()]
    assert len(lines) > 50  # DEBUG from urllib3, oauthlib, Django and ours
    assert tokens, "no token was stored: the journey did not run"
    forbidden = [
        *tokens,
        *(customer["DisplayName"] for customer in customers),
        *(customer["PrimaryEmailAddr"]["Address"] for customer in customers[:3]),
        "amy.new@example.com",
        "example.com",
        "%40",
        sandbox.intuit_client_secret,
        sandbox.cc_client_secret,
        sandbox.webhook_verifier_token,
        "Lauterbach",
        "Oxenstierna",
    ]
    text = captured_logs.getvalue()
    for value in forbidden:
        assert value.lower() not in text.lower(), f"{value!r} was logged"

    # Every line of the first sync names its tenant and run (urllib3's included).
    assert sync_lines
    for line in map(json.loads, sync_lines):
        assert (line["tenant_id"], line["run_id"]) == (company.tenant.pk, run.pk), line


def test_a_page_logs_with_its_tenant_and_the_next_request_without(
    install, knobs, captured_logs, settings
):
    company = install(person("Ann Lee", "ann@example.com"))
    client = company.journey.client
    knobs(constantcontact_error_rate=1.0)
    assert client.get("/settings/?refresh=1").status_code == 503
    settings.INTUIT_WEBHOOK_VERIFIER_TOKEN = "not-what-signed-it"
    answer = client.post("/webhooks/quickbooks/", data=b"[]", content_type="application/json")
    assert answer.status_code == 401
    lines = [json.loads(line) for line in captured_logs.getvalue().splitlines()]
    [unavailable] = [line for line in lines if "constant contact unavailable" in line["message"]]
    assert unavailable["tenant_id"] == company.tenant.pk
    [refused] = [line for line in lines if line["message"] == "webhook refused: bad signature"]
    assert refused["tenant_id"] is None
