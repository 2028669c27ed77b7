import os

from celery import Celery

from ccsync.ops.worker import install

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccsync.settings")

app = Celery("ccsync")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
install(app)
