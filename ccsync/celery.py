import os

from celery import Celery

from ccsync.ops.worker import install

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccsync.settings")

app = Celery("ccsync")
# Every thread (gunicorn's too) enqueues through this app: ccsync.base.jobs uses current_app.
app.set_default()
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
install(app)
