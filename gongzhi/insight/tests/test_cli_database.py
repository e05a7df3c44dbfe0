"""`gongzhi insight retrain|models|activate|hotspots` against the database: clear errors, exit ≠ 0."""

import io

import pytest
from django.core.management import CommandError, call_command

from gongzhi.core import clock
from gongzhi.demands.tests.conftest import dw, ledger_keys  # noqa: F401 (fixtures)
from gongzhi.demands.tests.factories import THURSDAY_9AM
from gongzhi.insight import services
from gongzhi.insight.models import ClassifierModel

from .test_services import GARBAGE, NOISE, model_dir, plant_history  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("insight", *args, stdout=out)
    return out.getvalue()


def test_retraining_without_enough_handled_demands_is_a_clear_error(dw, model_dir):
    with pytest.raises(CommandError, match="need 20"):
        run("retrain")
    assert "no model yet" in run("models")


def test_retrain_stores_a_version_that_models_lists_and_activate_switches(dw, model_dir):
    for i in range(10):
        dw.closed(text=GARBAGE[i % 4] + "。" * i, category="environment.garbage")
        dw.closed(text=NOISE[i % 4] + "。" * i, category="environment.noise")
    assert "stored v" in run("retrain")
    run("retrain", "--no-activate")
    first, second = ClassifierModel.objects.order_by("id")
    assert first.is_active and not second.is_active
    assert "(active)" in run("activate", str(second.pk))
    listed = run("models")
    assert f"v{second.pk} (active)" in listed and f"v{first.pk}:" in listed
    with pytest.raises(CommandError, match="v999"):
        run("activate", "999")
    services.active_model.forget()


def test_hotspots_prints_each_with_its_explanation(dw, model_dir):
    plant_history(dw, burst=15)
    with clock.frozen_at(THURSDAY_9AM):  # the burst is in the last complete week before this Thursday
        out = run("hotspots", "--weeks", "20")
    assert "东园一网格" in out and "1 hot spot(s)" in out
    with pytest.raises(CommandError, match="no region"):
        run("hotspots", "--region", "999999999999")
