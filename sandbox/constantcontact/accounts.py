"""Constant Contact accounts: sign-up and the check of a login's password."""

from django.db import IntegrityError, transaction

from sandbox.common import check_password, hash_password
from sandbox.constantcontact.models import Account


class SignUpError(ValueError):
    pass


def create_account(
    *, username: str, password: str, organization_name: str, contact_email: str = ""
) -> Account:
    username = username.strip()
    if not username or not password:
        raise SignUpError("Choose a username and a password.")
    try:
        with transaction.atomic():
            return Account.objects.create(
                username=username,
                password=hash_password(password),
                organization_name=organization_name.strip() or username,
                contact_email=contact_email.strip(),
            )
    except IntegrityError:
        raise SignUpError("That username is taken. Choose another one.") from None


def authenticate(*, username: str, password: str) -> Account | None:
    account = Account.objects.filter(username=username.strip()).first()
    if account is None or not check_password(password, account.password):
        return None
    return account
