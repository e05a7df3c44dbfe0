"""URLs of Open311 GeoReport v2, mounted at /open311/v2/. The format is the extension: .xml or .json."""

from django.urls import re_path

from . import open311

FMT = r"\.(?P<fmt>[A-Za-z0-9]+)$"

urlpatterns = [
    re_path(r"^discovery" + FMT, open311.discovery, name="open311-discovery"),
    re_path(r"^services" + FMT, open311.service_list, name="open311-services"),
    # Codes contain dots (environment.garbage): the greedy code stops at the last dot, before the format.
    re_path(r"^services/(?P<service_code>[^/]+)" + FMT, open311.service_definition, name="open311-service"),
    re_path(r"^requests" + FMT, open311.requests, name="open311-requests"),
    re_path(r"^requests/(?P<service_request_id>[^/]+)" + FMT, open311.request_detail, name="open311-request"),
    re_path(r"^tokens/(?P<token_id>[A-Za-z0-9_-]+)" + FMT, open311.token, name="open311-token"),
    re_path(r"^(?P<path>.*)$", open311.not_found),
]
