"""The account's pages at the sandbox's Constant Contact: lists, contacts arriving during an
import, creating a list, and unsubscribing a contact."""

import re
import time

from tests.sandbox.constantcontact.conftest import Browser


def _signed_in(sandbox, account) -> Browser:
    browser = Browser(sandbox)
    first = browser.get("/cc/account/")
    assert first.status_code == 302 and first.headers["Location"].startswith("/cc/login")
    answer = browser.log_in(browser.get(first.headers["Location"]), account["username"], "pw")
    assert answer.headers["Location"] == "/cc/account/"
    return browser


def test_lists_page_and_create_list(sandbox, cc_account, api):
    browser = _signed_in(sandbox, cc_account)
    page = browser.get("/cc/account/")
    assert "Customers" in page.text and "Donors" in page.text
    created = browser.submit(page, name="Newsletter")
    assert created.status_code == 302
    names = [item["name"] for item in api.get("/contact_lists").json()["lists"]]
    assert "Newsletter" in names
    duplicate = browser.submit(browser.get("/cc/account/"), name="newsletter")
    assert duplicate.status_code == 400 and "already in use" in duplicate.text


def test_list_page_refreshes_during_an_import(sandbox, cc_account, api, knobs):
    knobs(cc_import_rate_per_second=5)
    customers = cc_account["lists"]["Customers"]
    rows = [{"email": f"w{number}@example.com", "last_name": "Watch"} for number in range(20)]
    activity = api.post(
        "/activities/contacts_json_import", json={"import_data": rows, "list_ids": [customers]}
    ).json()
    browser = _signed_in(sandbox, cc_account)
    time.sleep(1)
    during = browser.get(f"/cc/account/lists/{customers}/")
    assert '<meta http-equiv="refresh" content="2">' in during.text
    shown = len(re.findall(r"w\d+@example.com", during.text))
    assert 0 < shown < 20
    while api.get(f"/activities/{activity['activity_id']}").json()["state"] != "completed":
        time.sleep(0.3)
    after = browser.get(f"/cc/account/lists/{customers}/")
    assert "http-equiv" not in after.text
    assert len(re.findall(r"w\d+@example.com", after.text)) == 20
    counts = browser.get("/cc/account/").text
    assert re.search(r"Customers</a></td><td>20<", counts)


def test_unsubscribe_button(sandbox, cc_account, api):
    customers = cc_account["lists"]["Customers"]
    contact = api.post(
        "/contacts",
        json={
            "email_address": {"address": "bye@example.com"},
            "create_source": "Account",
            "list_memberships": [customers],
        },
    ).json()
    time.sleep(1.1)  # the seeded contact unsubscribed earlier, in a past second
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    browser = _signed_in(sandbox, cc_account)
    page = browser.get(f"/cc/account/lists/{customers}/")
    assert "bye@example.com" in page.text and "implicit" in page.text
    answer = browser.submit(page)
    assert answer.status_code == 302
    assert "unsubscribed" in browser.get(answer.headers["Location"]).text
    seen = api.all_contacts(f"status=unsubscribed&optout_after={since}")
    assert [item["contact_id"] for item in seen] == [contact["contact_id"]]
    assert seen[0]["email_address"]["opt_out_source"] == "Contact"
