"""The health, readiness and metrics endpoints (gongzhi/ops/health.py, metrics.py say what each checks)."""

import asyncio

from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from health_check.views import HealthCheckView

from . import health, metrics


@never_cache
def live(request):
    """The web process answers: no database, no check. A supervisor restarts a process that stops answering."""
    return JsonResponse({"status": "alive"})


class ReadyView(HealthCheckView):
    """Every readiness check, in JSON: {"status": "ready" | "not ready", "reason": …, "checks": [{"name",
    "state": "ok" | "failing", "detail"}]}; 503 when any fails, with the failing checks' reasons."""

    checks = health.READINESS

    async def get(self, request, *args, **kwargs):
        with self.get_executor() as executor:
            results = await asyncio.gather(*(check.get_result(executor) for check in self.get_checks()))
        checks = []
        for result in results:
            error = result.error
            checks.append({"name": getattr(result.check, "name", type(result.check).__name__),
                           "state": "failing" if error else "ok",
                           "detail": error.message if error else getattr(result.check, "detail", "")})
        failing = [c for c in checks if c["state"] == "failing"]
        body = {"status": "not ready" if failing else "ready"}
        if failing:
            body["reason"] = "; ".join(f"{c['name']}: {c['detail']}" for c in failing)
        body["checks"] = checks
        return JsonResponse(body, status=503 if failing else 200, json_dumps_params={"ensure_ascii": False})


ready = ReadyView.as_view()


@never_cache
def metrics_view(request):
    if not metrics.allowed(request):
        raise Http404
    return HttpResponse(metrics.exposition(), content_type=metrics.CONTENT_TYPE)
