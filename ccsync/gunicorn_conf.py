"""gunicorn settings for the web process (the demo's Procfile and docker-compose)."""

import os

from ccsync import settings as app_settings

threads = int(os.environ.get("WEB_THREADS", "8"))
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
accesslog = "-"
# The path without its query string: OAuth callbacks carry codes and state in it.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
# One control socket path per user: several servers on one machine would share it.
control_socket_disable = True
# gunicorn's own lines (its errors, the access log) go through the app's handler: JSON in
# production, with the scrubber (ccsync/base/logs.py).
logconfig_dict = {
    **app_settings.LOGGING,
    "loggers": {
        **app_settings.LOGGING["loggers"],
        **{
            name: {
                "level": app_settings.LOGGING["root"]["level"],
                "handlers": ["console"],
                "propagate": False,
            }
            for name in ("gunicorn.error", "gunicorn.access")
        },
    },
}


def on_starting(server: object) -> None:
    """The settings checks, once in the master before any worker: a production process with
    a missing secret or key, or the sandbox enabled, never starts (ccsync/ops/checks.py)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccsync.settings")
    django.setup()
    from ccsync.ops.checks import refuse_to_start

    refuse_to_start()
