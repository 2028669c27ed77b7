import os
import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the sandbox with gunicorn (one process, threads, background jobs)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)

    def handle(self, *args, host, port, **options):
        os.execv(
            sys.executable,
            [
                sys.executable,
                "-m",
                "gunicorn",
                "sandbox.wsgi",
                "-c",
                "python:sandbox.gunicorn_conf",
                "-b",
                f"{host}:{port}",
            ],
        )
