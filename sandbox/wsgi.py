import os

from django.core.wsgi import get_wsgi_application

# Always the sandbox's own settings, even when started from a process of the app.
os.environ["DJANGO_SETTINGS_MODULE"] = "sandbox.settings"
application = get_wsgi_application()
