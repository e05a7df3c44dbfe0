"""WSGI entry point for gunicorn (`make demo`) and any other WSGI server."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.settings")
application = get_wsgi_application()
