"""The app's Celery app as the fault tests run it: beat looks for stuck runs every second
(production: every minute), so a killed worker's run is taken over within the test."""

from ccsync.celery import app

RECOVER_EVERY_SECONDS = 1.0

app.conf.beat_schedule = {
    **app.conf.beat_schedule,
    "sync-recover": {"task": "sync.recover_runs", "schedule": RECOVER_EVERY_SECONDS},
}
