"""Sales data's side of the Constant Contact account: the custom fields the figures go in,
and the tag, made once per account and found again by their names afterwards.

Setting up costs 1 call to list the fields (100 a page: an account holds at most 100), 1
per field to create, and, with the tag chosen, 1 to list the tags and 1 to create it.
Nothing is called again while the choice and the account stay the same.

A field of the same label (case and punctuation aside) that people made themselves is used
when it can hold the fact (a text field, string or text_area, holds anything); one that
cannot is reported on the Settings and status pages, and that fact is not sent. What
Constant Contact refuses is reported as what it is: an account already holding its 100
fields (no call is made for a field that cannot fit), a user whose role may not create
fields or tags (403: the connection stays), a label taken meanwhile (409: the fields are
listed again, 1 call), a field refused (400). Any other failure (the fields' list or the
tag refused, a tag's name taken by one not found) is a sales data problem (optional.py):
the contacts sync on without it.
"""

import logging
import re

from ccsync.sync import optional, sales_state
from ccsync.sync.models import SalesDataState
from ccsync.sync.sales_state import Source
from integrations.constantcontact import errors as cc_errors
from integrations.constantcontact.client import MAX_CUSTOM_FIELDS, ConstantContactClient
from tenants.models import SalesData, Tenant
from tenants.sales_facts import BY_KEY, Fact

logger = logging.getLogger(__name__)

TEXT_TYPES = {"string", "text_area"}  # the guide's text types
_NOT_LETTERS = re.compile(r"[\W_]+")


def set_up(*, tenant: Tenant, cc: ConstantContactClient) -> SalesDataState | None:
    """The custom fields of the chosen facts and the tag, in the account the tenant is
    connected to now. None when the option is off."""
    choice = SalesData.objects.filter(tenant=tenant, enabled=True).first()
    connection = getattr(tenant, "constantcontact_connection", None)
    if choice is None or connection is None:
        return None
    state = sales_state.state_of(tenant_id=tenant.pk)
    account = connection.account_id
    same_account = state.account_id == account
    fields, tag_id = (dict(state.fields), state.tag_id) if same_account else ({}, "")
    missing = [BY_KEY[key] for key in choice.facts if key in BY_KEY and key not in fields]
    problems: list[str] = []
    if missing:
        # Any other failure, from listing the fields on, is optional.py's to tell.
        optional.attempt(
            lambda: _set_up_fields(tenant.pk, fields, missing, cc, problems),
            tenant_id=tenant.pk,
            source=Source.CUSTOM_FIELDS,
        )
    if choice.tag_enabled and choice.tag_name and not tag_id:
        # A 403 is the role's (the tags overview: the Account Owner or Manager role):
        # optional.py tells it, the contacts going untagged.
        made = optional.attempt(
            lambda: _tag_id(choice.tag_name, cc), tenant_id=tenant.pk, source=Source.TAG
        )
        tag_id = made or ""
    sales_state.set_up(
        state=state, account_id=account, fields=fields, tag_id=tag_id, problem=" ".join(problems)
    )
    return state


def _label_key(label: object) -> str:
    """A label as compared: "QuickBooks: total sales" and "quickbooks total sales" are one."""
    return " ".join(_NOT_LETTERS.sub(" ", str(label)).casefold().split())


def _set_up_fields(
    tenant_id: int,
    fields: dict[str, dict],
    missing: list[Fact],
    cc: ConstantContactClient,
    problems: list[str],
) -> None:
    """The missing facts' fields, found by label or made, added to `fields`; those that
    cannot be, said in `problems`."""
    listed = cc.custom_fields()
    existing = {_label_key(f.get("label", "")): f for f in listed}
    room = MAX_CUSTOM_FIELDS - len(listed)
    full: list[Fact] = []  # no room: not tried
    forbidden: list[Fact] = []  # the role: not tried after the first 403
    for fact in missing:
        found = existing.get(_label_key(fact.label))
        if found is None and (room <= 0 or forbidden):
            (forbidden if forbidden else full).append(fact)
            continue
        if found is None:
            try:
                found = _create(fact, cc)
                room -= 1
            except cc_errors.Conflict:
                # Made meanwhile, or a field whose name is the one this label makes.
                existing = {_label_key(f.get("label", "")): f for f in cc.custom_fields()}
                found = existing.get(_label_key(fact.label))
                if found is None:
                    problems.append(_refused(tenant_id, fact, "a field there has its name"))
                    continue
            except cc_errors.CustomFieldLimitReached:
                room = 0
                full.append(fact)
                continue
            except cc_errors.NotPermitted:
                forbidden.append(fact)
                continue
            except cc_errors.BadRequest:
                problems.append(_refused(tenant_id, fact, "Constant Contact refused it"))
                continue
        kind = str(found.get("type", ""))
        if kind != fact.type and kind not in TEXT_TYPES:
            problems.append(
                f"Your Constant Contact field “{found.get('label')}” holds {kind} values, "
                f"not {fact.type}s: {fact.choice.lower()} is not sent. Rename that field "
                "to let the app make its own."
            )
            continue
        fields[fact.key] = {
            "id": str(found["custom_field_id"]),
            "name": str(found["name"]),
            "type": kind,
            **_holds(kind, found.get("metadata")),
        }
    if full:
        problems.append(
            f"Your Constant Contact account holds its {MAX_CUSTOM_FIELDS} custom fields, so "
            f"these are not sent: {_choices(full)}."
        )
    if forbidden:
        what = "the figures" if forbidden == missing else f"these: {_choices(forbidden)}"
        problems.append(
            f"Your Constant Contact user's role may not add custom fields, so the app does not "
            f"send {what}. To send them, {optional.ROLE}; or turn sales data off in Settings."
        )
    for why, facts in (("full", full), ("role", forbidden)):
        if facts:
            logger.warning(
                "custom fields not created: tenant=%s facts=%s cause=%s",
                tenant_id,
                ",".join(fact.key for fact in facts),
                why,
            )


def _choices(facts: list[Fact]) -> str:
    return ", ".join(fact.choice.lower() for fact in facts)


def _create(fact: Fact, cc: ConstantContactClient) -> dict:
    return cc.create_custom_field(
        label=fact.label,
        type=fact.type,
        metadata=_metadata(fact),
        version=2 if fact.type == "date" else None,
    )


def _refused(tenant_id: int, fact: Fact, why: str) -> str:
    logger.warning("custom field not created: tenant=%s fact=%s cause=%s", tenant_id, fact.key, why)
    return (
        f"The app could not add the field “{fact.label}” ({why}): it is not sent; the next "
        "full check tries again (Sync now on the status page)."
    )


def _holds(kind: str, metadata: object) -> dict[str, object]:
    """What a field's values may be: below zero ("negative"), and how many decimals
    ("decimals", None for any): a number field takes what its metadata allows (none below
    zero unless allow_negative; no decimals when integer), a text field anything."""
    if kind in TEXT_TYPES or kind == "date":
        return {"negative": True, "decimals": None}
    meta = metadata if isinstance(metadata, dict) else {}
    places = meta.get("decimal_places")
    decimals = 0 if meta.get("integer") else places if isinstance(places, int) else None
    return {"negative": bool(meta.get("allow_negative")), "decimals": decimals}


def _metadata(fact: Fact) -> dict | None:
    if fact.type != "number":
        return None
    return {**fact.metadata, "allow_negative": fact.negative}


def _tag_id(name: str, cc: ConstantContactClient) -> str:
    """The tag's id, found by its name or made."""
    for tag in cc.tags():
        if str(tag.get("name", "")).casefold() == name.casefold():
            return str(tag["tag_id"])
    try:
        return str(cc.create_tag(name=name)["tag_id"])
    except cc_errors.Conflict:  # made meanwhile, by people or another worker
        made = next((str(t["tag_id"]) for t in cc.tags() if t.get("name") == name), None)
        if made is None:
            raise
        return made
