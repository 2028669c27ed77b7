"""Sandbox identities and companies, for the demo and for tests."""

from django.db import transaction

from sandbox.intuit import services
from sandbox.intuit.models import Company, IntuitUser


@transaction.atomic
def seed_identity(
    *, email: str, password: str, name: str, company_names: list[str]
) -> list[Company]:
    """An Intuit user (by email) who is a member of the named companies (by name).

    Idempotent: run again, it updates the password and name and reuses the companies.
    """
    given_name, _, family_name = name.strip().partition(" ")
    user = IntuitUser.objects.filter(email__iexact=email).first() or IntuitUser(email=email)
    user.given_name, user.family_name = given_name, family_name
    services.set_password(user=user, password=password)
    user.save()
    companies = []
    for company_name in company_names:
        company = Company.objects.filter(name=company_name).order_by("pk").first()
        if company is None:
            company = services.new_company(name=company_name)
        company.members.add(user)
        companies.append(company)
    return companies
