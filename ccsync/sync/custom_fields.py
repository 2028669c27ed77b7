"""Sales data's side of the Constant Contact account: the custom fields the figures go in,
and the tag, made once per account and found again by their names afterwards.

Setting up costs 1 call to list the fields (100 a page: an account holds at most 100), 1
per field to create, and, with the tag chosen, 1 to list the tags and 1 to create it.
Nothing is called again while the choice and the account stay the same.

A field of the same label that people made themselves is used when it can hold the fact
(a text field holds anything); one that cannot is reported on the Settings and status
pages, and that fact is not sent. An account already holding 100 fields is reported too.
"""

import logging

from ccsync.sync import sales_state
from ccsync.sync.models import SalesDataState
from integrations.constantcontact import errors as cc_errors
from integrations.constantcontact.client import ConstantContactClient
from tenants.models import SalesData, Tenant
from tenants.sales_facts import BY_KEY, Fact

logger = logging.getLogger(__name__)

TEXT_TYPES = {"string", "text"}


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
        _set_up_fields(tenant.pk, fields, missing, cc, problems)
    if choice.tag_enabled and choice.tag_name and not tag_id:
        tag_id = _tag_id(choice.tag_name, cc)
    sales_state.set_up(
        state=state, account_id=account, fields=fields, tag_id=tag_id, problem=" ".join(problems)
    )
    return state


def _set_up_fields(
    tenant_id: int,
    fields: dict[str, dict],
    missing: list[Fact],
    cc: ConstantContactClient,
    problems: list[str],
) -> None:
    """The missing facts' fields, found by label or made, added to `fields`; those that
    cannot be, said in `problems`."""
    existing = {str(f.get("label", "")).casefold(): f for f in cc.custom_fields()}
    for fact in missing:
        found = existing.get(fact.label.casefold())
        if found is None:
            try:
                found = cc.create_custom_field(
                    label=fact.label,
                    type=fact.type,
                    metadata=_metadata(fact),
                    version=2 if fact.type == "date" else None,
                )
            except cc_errors.BadRequest as error:
                logger.warning(
                    "custom field not created: tenant=%s fact=%s cause=%s",
                    tenant_id,
                    fact.key,
                    type(error).__name__,
                )
                problems.append(
                    f"Constant Contact did not create the field “{fact.label}” "
                    "(an account holds at most 100 custom fields): it is not sent."
                )
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
    for tag in cc.tags():
        if str(tag.get("name", "")).casefold() == name.casefold():
            return str(tag["tag_id"])
    try:
        return str(cc.create_tag(name=name)["tag_id"])
    except cc_errors.Conflict:  # made meanwhile, by people or another worker
        return next(str(t["tag_id"]) for t in cc.tags() if t.get("name") == name)
