"""Erases everything held about one QuickBooks company (docs/datacare.md)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ccsync.datacare.company import CompanyNotFound, erase_company


class Command(BaseCommand):
    help = (
        "Erase everything held about one QuickBooks company (its realm id): the tenant, its "
        "tokens (revoked first if still connected), lists, runs, customers, webhook events, "
        "unsubscribed addresses, and its people who act for no other company. Without --yes "
        "it only shows what would be erased."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("realm_id", help="The QuickBooks company's realm id.")
        parser.add_argument(
            "--yes", action="store_true", help="Erase for real (otherwise a dry run)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            erasure = erase_company(realm_id=options["realm_id"], dry_run=not options["yes"])
        except CompanyNotFound as error:
            raise CommandError(str(error)) from None
        verb = "Erased" if erasure.erased else "Would erase"
        self.stdout.write(f"{verb} for realm {erasure.realm_id} (tenant {erasure.tenant_id}):")
        for name, count in erasure.counts.items():
            self.stdout.write(f"  {name.replace('_', ' ')}: {count}")
        if not erasure.erased:
            self.stdout.write("Dry run: nothing was erased. Run again with --yes to erase.")
