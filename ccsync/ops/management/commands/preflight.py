"""`manage.py preflight`: the go-live checklist (ccsync/ops/preflight.py, docs/operating.md).

One line per check, as each is known; exits 1 when any check failed.
"""

from django.core.management.base import BaseCommand, CommandError

from ccsync.ops import preflight


class Command(BaseCommand):
    help = (
        "Check the deployment against Intuit and Constant Contact before go-live: one line "
        "per check, exit 1 on any failure."
    )

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        failed = total = 0
        for check in preflight.run():
            total += 1
            failed += not check.ok
            self.stdout.write(check.line())
        if failed:
            raise CommandError(f"{failed} of {total} checks failed", returncode=1)
        self.stdout.write(f"All {total} checks passed.")
