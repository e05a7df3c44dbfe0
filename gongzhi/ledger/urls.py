"""The ledger's public pages and C2SP tlog-tiles endpoints under /ledger/."""

from django.urls import path, re_path

from . import views

app_name = "ledger"

urlpatterns = [
    path("", views.index, name="index"),
    path("receipt/", views.receipt, name="receipt"),
    path("checkpoint", views.checkpoint, name="checkpoint"),
    re_path(r"^(?P<tile_path>tile/.+)$", views.tile, name="tile"),
]
