"""gunicorn settings for the sandbox: one process (its throttles and background jobs live in
memory), many threads."""

workers = 1
worker_class = "gthread"
threads = 32
timeout = 120
accesslog = None
# gunicorn's control socket lives at one path per user: several servers on one machine
# (the app, the sandbox, test runs) would take it from each other.
control_socket_disable = True


def post_worker_init(worker):
    from django.conf import settings

    from sandbox.control import background

    if settings.SANDBOX_BACKGROUND:
        background.start()
