"""gunicorn settings for the web process (the demo's Procfile and docker-compose)."""

import os

threads = int(os.environ.get("WEB_THREADS", "8"))
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
accesslog = "-"
# The path without its query string: OAuth callbacks carry codes and state in it.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
# One control socket path per user: several servers on one machine would share it.
control_socket_disable = True
