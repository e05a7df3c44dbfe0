"""WSGI entry point for gunicorn (`make demo`) and any other WSGI server."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.settings")
django_application = get_wsgi_application()

from gongzhi.demands import fastpath  # noqa: E402 (needs the apps loaded by get_wsgi_application)
from gongzhi.ops import metrics  # noqa: E402

# POST /api/v1/demands/submissions is served in front of Django when it can be (decision 0005); the answers it
# gives itself are counted for /metrics (what it hands to Django, Django's middleware counts).
application = metrics.instrument_fast_path(django_application, fastpath.wrap)


def _freeze_startup_objects() -> None:
    """Load the URLconf (and so every view module), then move the ~250,000 objects made so far out of the
    garbage collector's sight (gc.freeze): they live as long as the process. Without it every full collection
    walked them all, 75-120 ms, once every few requests of a page that makes many objects (bench_roles.py:
    the region page's p95 was 5× its median); with it a full collection takes about 20 ms."""
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports the views now, not on the first request
    gc.collect()
    gc.freeze()


_freeze_startup_objects()
