"""`python -m sandbox seed`: the demo's world (a QuickBooks user with two companies full of
customers, and a Constant Contact account with lists and a few unsubscribed contacts)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from sandbox.constantcontact.seed import seed_account
from sandbox.intuit.models import IntuitUser
from sandbox.intuit.seed import seed_identity
from sandbox.quickbooks.models import Customer
from sandbox.quickbooks.seed import seed_customers

QBO_EMAIL = "demo@example.com"
QBO_PASSWORD = "demo"  # noqa: S105 (the sandbox's published demo credentials)
CC_USERNAME = "demo"
CC_PASSWORD = "demo"  # noqa: S105
COMPANY_NAMES = ["Amy's Bird Sanctuary", "Keystone Food Bank"]
LIST_NAMES = ["QuickBooks Customers", "Newsletter", "Donors"]
UNSUBSCRIBED_COUNT = 3


class Command(BaseCommand):
    help = "Seed the sandbox with the demo's QuickBooks companies and Constant Contact account."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="do nothing if seeded")
        parser.add_argument("--customers", type=int, default=300, help="in the first company")
        parser.add_argument(
            "--donors", type=int, default=1200, help="customers of the second company"
        )

    def handle(self, *args, if_empty: bool, customers: int, donors: int, **options):
        if if_empty and IntuitUser.objects.filter(email__iexact=QBO_EMAIL).exists():
            self.stdout.write("The sandbox is already seeded.")
            return
        with transaction.atomic():
            companies = seed_identity(
                email=QBO_EMAIL,
                password=QBO_PASSWORD,
                name="Demo User",
                company_names=COMPANY_NAMES,
            )
            for company, count in zip(companies, (customers, donors), strict=True):
                if not Customer.objects.filter(realm_id=company.realm_id).exists():
                    seed_customers(realm_id=company.realm_id, count=count, sales=True)
            # A few of the first company's customers have unsubscribed in Constant Contact:
            # the sync must leave them out.
            unsubscribed = [
                email.split(",")[0].strip()
                for email in Customer.objects.filter(
                    realm_id=companies[0].realm_id, active=True, email__contains="@"
                )
                .exclude(email__contains=",")
                .order_by("number")
                .values_list("email", flat=True)[:UNSUBSCRIBED_COUNT]
            ]
            seed_account(
                username=CC_USERNAME,
                password=CC_PASSWORD,
                list_names=LIST_NAMES,
                unsubscribed_emails=unsubscribed,
            )
        self.stdout.write(
            f"Seeded: QuickBooks user {QBO_EMAIL} with {', '.join(COMPANY_NAMES)}; "
            f"Constant Contact user {CC_USERNAME}."
        )
