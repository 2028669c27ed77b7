"""Seed data: a Constant Contact account with lists and, optionally, unsubscribed contacts."""

from collections.abc import Sequence

from django.db import transaction

from sandbox.common import check_password, hash_password
from sandbox.constantcontact import contacts, lists
from sandbox.constantcontact.accounts import create_account
from sandbox.constantcontact.models import Account, Contact


@transaction.atomic
def seed_account(
    *,
    username: str,
    password: str,
    list_names: list[str],
    unsubscribed_emails: Sequence[str] = (),
) -> Account:
    """Idempotent by username (and by list name and email within the account)."""
    account = Account.objects.filter(username=username).first()
    if account is None:
        account = create_account(
            username=username,
            password=password,
            organization_name=f"{username.title()} Organization",
            contact_email=username if "@" in username else f"{username}@example.com",
        )
    elif not check_password(password, account.password):
        account.password = hash_password(password)
        account.save(update_fields=["password"])
    for name in list_names:
        if not lists.live_lists(account).filter(name__iexact=name).exists():
            lists.create_list(account=account, name=name)
    for email in unsubscribed_emails:
        contact = Contact.objects.filter(account=account, email_key=email.lower()).first()
        if contact is None:
            contact = contacts.new_contact(
                account=account, email=email, source="Account", permission="implicit"
            )
            contact.save()
        if contact.permission_to_send != "unsubscribed":
            contacts.unsubscribe(contact=contact)
    return account
