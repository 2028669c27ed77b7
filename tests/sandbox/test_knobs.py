import requests


def test_knobs_change_and_reset(sandbox):
    assert sandbox.set_knobs(constantcontact_latency_ms=5)["constantcontact_latency_ms"] == 5
    sandbox.reset_knobs()
    assert (
        requests.get(f"{sandbox.url}/_sandbox/knobs", timeout=5).json()[
            "constantcontact_latency_ms"
        ]
        == 0
    )


def test_unknown_or_mistyped_knob_is_refused(sandbox):
    answer = requests.post(f"{sandbox.url}/_sandbox/knobs", json={"nope": 1}, timeout=5)
    assert answer.status_code == 400
    answer = requests.post(
        f"{sandbox.url}/_sandbox/knobs", json={"quickbooks_error_rate": "high"}, timeout=5
    )
    assert answer.status_code == 400


def test_injected_faults_use_each_providers_error_shape(sandbox):
    with sandbox.knobs(constantcontact_throttle_rate=1.0, quickbooks_error_rate=1.0):
        cc = requests.get(f"{sandbox.url}/cc/v3/contact_lists", timeout=5)
        qbo = requests.get(f"{sandbox.url}/quickbooks/v3/company/1/customer/1", timeout=5)
    assert cc.status_code == 429
    assert cc.json() == [{"error_key": "throttled", "error_message": "Too Many Requests"}]
    assert qbo.status_code == 500
    assert qbo.json()["Fault"]["type"] == "SystemFault"


def test_dropped_connection(sandbox):
    with sandbox.knobs(constantcontact_drop_rate=1.0):
        try:
            requests.get(f"{sandbox.url}/cc/v3/contact_lists", timeout=5)
        except requests.ConnectionError:
            dropped = True
        else:
            dropped = False
    assert dropped
