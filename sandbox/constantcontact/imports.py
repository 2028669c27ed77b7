"""A JSON contact import's rows: parsed into contact properties (or the error that keeps a
row out), then written in bulk.

As Constant Contact's import help says (knowledge base articles 33113 and 49485: an import
updates the fields it carries with new information, "contact data will always merge"), a
row sets the properties it includes with a value and leaves every other one alone, an empty
value included: nothing promises that an empty value clears a stored one. An import never
changes a contact's permission.

A row's `cf:<custom field name>` keys (at most 25, the spec) set its custom fields. The
spec says the field "must already exist" and not what happens when it does not, nor that a
refused value appears in `activity_errors`: the sandbox stores the rest of the row, leaves
that field's stored value as it was, and reports an activity error for a value whose field
does not exist or refuses it (`rules.check_value`), or, with the knob
`cc_import_custom_field_errors` "silent", says nothing.

A row's `email` is at most 50 characters (the spec's import schema; a contact's address
takes 80 by POST or PUT /contacts): a longer one keeps its row out, with an activity error.

Errors are free text (the spec types `activity_errors` as an array of strings): the knob
`cc_import_error_format` words them as "plain" messages naming no row, "line" ("Line N:",
N counting the contacts from 1) or "line_with_header" ("Line N:", the header of the CSV
that V2 made of a JSON import counted as line 1), the shapes Constant Contact has used.
"""

from collections.abc import Sequence

from django.db import connection
from django.db.models import Field
from django.utils import timezone

from sandbox.constantcontact import contacts, custom_fields, lists
from sandbox.constantcontact.import_rows import Refused, Row, apply_row, parse_row
from sandbox.constantcontact.models import Activity, Contact, ContactList
from sandbox.constantcontact.rules import NAME_FIELDS
from sandbox.control import knobs

BATCH = 500


def import_rows(activity: Activity, start: int, end: int) -> None:
    """Rows `start` to `end` of the import: contacts added or updated, and put on its lists."""
    account = activity.account
    refused_domains = frozenset(d.lower() for d in knobs.get("cc_import_refused_domains"))
    fields = custom_fields.by_name(account)
    report_custom = knobs.get("cc_import_custom_field_errors") == "reported"
    parsed = [
        parse_row(
            line + 1,
            raw,
            refused_domains=refused_domains,
            fields=fields,
            report_custom=report_custom,
        )
        for line, raw in enumerate(activity.payload["rows"][start:end], start)
    ]
    rows = [row for row in parsed if isinstance(row, Row)]
    style = knobs.get("cc_import_error_format")
    refused = [row for row in parsed if isinstance(row, Refused)]
    refused += [problem for row in rows for problem in row.problems]
    errors = [problem.message(style) for problem in sorted(refused, key=lambda p: p.line)]
    keys = list({row.email.lower() for row in rows})
    known: dict[str, Contact] = {}
    for offset in range(0, len(keys), BATCH):
        for stored in Contact.objects.filter(
            account=account, email_key__in=keys[offset : offset + BATCH]
        ):
            known[stored.email_key] = stored
    existing_keys = set(known)
    now = timezone.now()
    blocked: set[str] = set()
    for row in rows:
        key = row.email.lower()
        contact = known.get(key)
        if contact is None:
            contact = known[key] = contacts.new_contact(
                account=account, email=row.email, source="Account", permission="implicit"
            )
        apply_row(contact, row, now=now)
        if contact.permission_to_send == "unsubscribed":
            blocked.add(key)
    new = [known[key] for key in known if key not in existing_keys]
    _insert(new)
    _update([known[key] for key in existing_keys])
    targets = list(ContactList.objects.filter(list_id__in=activity.payload["list_ids"]))
    lists.add_members([c for key, c in known.items() if key not in blocked], targets)
    activity.person_count += len(rows)
    activity.error_count += len(errors)
    activity.cannot_add_to_list_count += sum(1 for row in rows if row.email.lower() in blocked)
    activity.activity_errors = [*activity.activity_errors, *errors]


def _concrete(name: str) -> Field:
    found = Contact._meta.get_field(name)
    assert isinstance(found, Field)  # a column of the table, not a reverse relation
    return found


def _column(name: str) -> str:
    column = _concrete(name).column
    assert column is not None  # concrete fields have one
    return column


def _run_many(sql: str, batch: Sequence[Contact], names: Sequence[str]) -> None:
    """One executemany: the ORM's per-value work made 10,000-contact imports take tens of
    seconds."""
    fields = [_concrete(name) for name in names]
    params = [
        [item.get_db_prep_save(getattr(contact, item.attname), connection) for item in fields]
        for contact in batch
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _insert(batch: list[Contact]) -> None:
    if not batch:
        return
    names = [f.name for f in Contact._meta.concrete_fields if f.name != "id"]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(_column(name)) for name in names)
    marks = ", ".join(["%s"] * len(names))
    sql = f"INSERT INTO {quote(Contact._meta.db_table)} ({columns}) VALUES ({marks})"
    _run_many(sql, batch, names)
    ids = dict(
        Contact.objects.filter(contact_id__in=[c.contact_id for c in batch]).values_list(
            "contact_id", "id"
        )
    )
    for contact in batch:
        contact.pk = ids[contact.contact_id]


def _update(batch: list[Contact]) -> None:
    if not batch:
        return
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(_column(name))} = %s" for name in _UPDATED_FIELDS)
    sql = f"UPDATE {quote(Contact._meta.db_table)} SET {assignments} WHERE id = %s"
    _run_many(sql, batch, [*_UPDATED_FIELDS, "id"])


_UPDATED_FIELDS = [
    *NAME_FIELDS,
    "phone_numbers",
    "street_addresses",
    "custom_fields",
    "update_source",
    "updated_at",
    "deleted_at",
]
