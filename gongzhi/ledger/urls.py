"""C2SP tlog-tiles endpoints under /ledger/: checkpoint, hash tiles and entry bundles."""

from django.urls import path, re_path

from . import views

app_name = "ledger"

urlpatterns = [
    path("checkpoint", views.checkpoint, name="checkpoint"),
    re_path(r"^(?P<tile_path>tile/.+)$", views.tile, name="tile"),
]
