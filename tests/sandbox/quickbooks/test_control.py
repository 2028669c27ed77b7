"""The control API: it refuses what QuickBooks refuses, and its batch of edits (POST
.../customers/batch) is a burst of changes made at once, each its own webhook event, all
or none."""

import pytest
import requests


def batch(company, edits) -> requests.Response:
    return requests.post(f"{company.control}/customers/batch", json=edits, timeout=30)


def test_every_edit_is_made_and_sent_as_its_own_event(receiver, company):
    first, second = company.create([{"DisplayName": "One"}, {"DisplayName": "Two"}])
    receiver.wait_for_cloud_events(2)
    answer = batch(
        company,
        [{"Id": first["Id"], "GivenName": "Uno"}, {"Id": second["Id"], "CompanyName": "Dos Co"}],
    )
    assert answer.status_code == 200, answer.text
    assert [
        (c["Id"], c.get("GivenName"), c.get("CompanyName")) for c in answer.json()["Customer"]
    ] == [
        (first["Id"], "Uno", None),
        (second["Id"], None, "Dos Co"),
    ]
    stored = {c["Id"]: c for c in company.all_customers()}
    assert stored[first["Id"]]["GivenName"] == "Uno"
    assert stored[second["Id"]]["CompanyName"] == "Dos Co"
    updates = receiver.wait_for_cloud_events(4)[2:]
    assert [(e["type"], e["intuitentityid"]) for e in updates] == [
        ("qbo.customer.updated.v1", first["Id"]),
        ("qbo.customer.updated.v1", second["Id"]),
    ]


def test_a_batch_with_an_unknown_customer_changes_nothing(company):
    (only,) = company.create([{"DisplayName": "Only"}])
    answer = batch(company, [{"Id": only["Id"], "GivenName": "Changed"}, {"Id": "999999"}])
    assert answer.status_code == 404
    assert "GivenName" not in {c["Id"]: c for c in company.all_customers()}[only["Id"]]


@pytest.mark.parametrize("body", [{"Id": "1"}, [{"GivenName": "No Id"}], ["1"]])
def test_a_batch_must_be_a_list_of_edits_with_ids(company, body):
    answer = batch(company, body)
    assert answer.status_code == 400
    assert "send a list" in answer.json()["error"]


@pytest.mark.sandbox
def test_control_api_refuses_what_quickbooks_refuses(company):
    for body in ([1], {"DisplayName": 5}, {"DisplayName": "x", "ParentRef": "1"}, {}, "x"):
        answer = requests.post(f"{company.control}/customers", json=body, timeout=10)
        assert answer.status_code == 400, body
    assert requests.post(f"{company.control}/customers", data=b"{", timeout=10).status_code == 400
    assert company.change("999/delete").status_code == 404
    assert company.change("abc", {"Notes": "x"}).status_code == 404
    assert company.all_customers() == []
