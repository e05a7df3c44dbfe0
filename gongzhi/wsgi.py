"""WSGI entry point for gunicorn (`make demo`) and any other WSGI server."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.settings")
django_application = get_wsgi_application()

from gongzhi.demands import fastpath  # noqa: E402 (needs the apps loaded by get_wsgi_application)

# POST /api/v1/demands/submissions is served in front of Django when it can be (decision 0005).
application = fastpath.wrap(django_application)
