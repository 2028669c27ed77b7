"""Exports everything held about one QuickBooks company as JSON (docs/datacare.md)."""

import json
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder

from ccsync.datacare.company import CompanyNotFound, export_company


class Command(BaseCommand):
    help = (
        "Export everything held about one QuickBooks company (its realm id) as JSON: the "
        "tenant, its people, connections (state and expiry, never a token), lists, runs, "
        "customers, webhook events and unsubscribed addresses."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("realm_id", help="The QuickBooks company's realm id.")
        parser.add_argument(
            "--output", "-o", help="Write to this file (readable by its owner only), not stdout."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            data = export_company(realm_id=options["realm_id"])
        except CompanyNotFound as error:
            raise CommandError(str(error)) from None
        text = json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
        path = options["output"]
        if not path:
            self.stdout.write(text)
            return
        # Personal data: the file is created for its owner alone.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text + "\n")
        self.stderr.write(f"Exported realm {data['realm_id']} to {path}.")
