"""`python -m sandbox <django command>`: manage the sandbox site (its own settings and database)."""

import os
import sys

# Always the sandbox's own settings, even when started from a process of the app.
os.environ["DJANGO_SETTINGS_MODULE"] = "sandbox.settings"

from django.core.management import execute_from_command_line  # noqa: E402

execute_from_command_line(sys.argv)
