"""Hotline work orders from CSV: each row filed through file_demand as a hotline demand at its call time,
with the caller's contact; columns by a mapping; bad rows reported by line with nothing stored;
work orders imported before refused."""

import datetime as dt
import io
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.management.base import CommandError

from gongzhi.core import clock
from gongzhi.core.errors import DomainError, ImportRejected, ValidationFailed
from gongzhi.core.models import Event
from gongzhi.demands import imports, rules, services
from gongzhi.demands.models import Demand, DemandContact, DemandEvent, RoutingRule

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=SHANGHAI)
HEADER = "工单号,来电时间,来电人,来电号码,诉求内容,地址,经度,纬度,分类编码\n"


def run(dw, text: str, **kw) -> imports.HotlineImport:
    with clock.frozen_at(NOW):
        return imports.import_hotline(text.encode(), actor=dw.dispatcher, **kw)


def rejected(dw, text: str, **kw) -> list[tuple[int | None, str]]:
    events_before = Event.objects.count()
    with pytest.raises(ImportRejected) as caught:
        run(dw, text, **kw)
    assert not Demand.objects.exists() and Event.objects.count() == events_before  # nothing half-imported
    return [(e["line"], e["message"]) for e in caught.value.context["errors"]]


def test_work_orders_become_hotline_demands_received_at_their_call_time(dw):
    RoutingRule.objects.create(category=services.category_by_code("environment.garbage"), region=dw.world.street,
                               unit=dw.city_management)
    report = run(dw, HEADER
                 + "GD-1,2026-11-25 21:05:33,王女士,139 1111 2222,楼下垃圾桶三天没人清运,东园路1号,116.005,39.905,"
                   "environment.garbage\n"
                 + "GD-2,2026/11/24 8:30,,010-61234567,楼道灯坏了,,116.025,39.905,\n")
    assert report.created == 2 and (report.dispatched, report.waiting) == (1, 1)
    first, second = (Demand.objects.get(number=n) for n in report.numbers)
    assert second.number.startswith("20261125") and first.number.startswith("20261124")  # filed in call order
    assert second.channel == Demand.Channel.HOTLINE and second.state == rules.DISPATCHED
    assert second.received_at == dt.datetime(2026, 11, 25, 21, 5, 33, tzinfo=SHANGHAI)
    assert second.grid == dw.world.grid_a1 and second.address == "东园路1号"
    assert second.feedback_due > second.received_at  # deadlines run from the call
    assert first.state == rules.RECEIVED and first.category is None and first.grid == dw.world.grid_b1
    contact = DemandContact.objects.get(demand=second)
    assert (contact.name, contact.phone) == ("王女士", "13911112222")
    assert second.reporter_user == dw.dispatcher  # the operator files; it answers the 回访 by phone
    filed = DemandEvent.objects.get(demand=second, action="file").event
    assert filed.at == second.received_at and "13911112222" not in json.dumps(filed.data, ensure_ascii=False)
    imported = Event.objects.get(kind=imports.IMPORTED_EVENT, subject_id=str(second.pk))
    assert imported.data == {"number": second.number, "external_id": "GD-1", "channel": "hotline"}


def test_a_mapping_names_the_columns_of_another_system(dw):
    mapping = {"external_id": "受理编号", "received_at": "受理时间", "text": "问题描述", "grid": "网格",
               "category": "问题分类", "urgency": "紧急程度"}
    text = ("受理编号,受理时间,问题描述,网格,问题分类,紧急程度\n"
            "BJ-7,2026-11-26T09:30:00+08:00,电梯困人了,A2,电梯运行,一般\n")
    for given in (mapping, json.dumps(mapping, ensure_ascii=False), json.dumps(mapping).encode("utf-8-sig")):
        Demand.objects.all().delete()
        Event.objects.filter(kind=imports.IMPORTED_EVENT).delete()
        report = run(dw, text, mapping=given)
        demand = Demand.objects.get(number=report.numbers[0])
        assert demand.grid == dw.world.grid_a2 and demand.category.code == "housing.elevator"
        assert demand.urgency == rules.ORDINARY and demand.urgency_overridden  # given, not proposed ("困人")


def test_an_address_naming_a_known_building_locates_the_work_order(dw):
    report = run(dw, "诉求内容,地址\n垃圾没人清运,和平街道 东园路1号 北侧门口\n")
    demand = Demand.objects.get(number=report.numbers[0])
    assert demand.grid == dw.world.grid_a1 and (demand.longitude, demand.latitude) == (116.005, 39.905)
    assert demand.received_at == NOW  # no call-time column: received at the import


def test_bad_rows_are_reported_by_line_and_nothing_is_stored(dw):
    errors = rejected(dw, HEADER
                      + "GD-1,2026-11-25 09:00,张三,13900001111,好的一行,,116.005,39.905,\n"
                      + "GD-2,2026-11-25 09:00,张三,13900001111,,,116.005,39.905,\n"  # line 3: no text
                      + 'GD-3,昨天,张三,13900001111,"两行\n的内容",,116.005,39.905,\n'  # line 4-5: bad time
                      + "GD-4,2026-12-25 09:00,张三,13900001111,未来,,116.005,39.905,\n"  # line 6
                      + "GD-5,2026-11-25 09:00,张三,12345,电话不对,,116.005,39.905,noise\n"  # line 7: phone, category
                      + "GD-1,2026-11-25 09:00,张三,,重复,,117.5,40.5,\n"  # line 8: duplicate id, outside grids
                      + ",2026-11-25 09:00,张三,,没有位置,,,,\n"  # line 9: no id, no location
                      + "GD-9,2026-11-25 09:00,张三,,一半位置,,116.0,,\n")  # line 10: one coordinate
    lines = [line for line, _ in errors]
    assert lines == [3, 4, 6, 7, 7, 8, 8, 9, 9, 10]
    text = "\n".join(message for _, message in errors)
    for expected in ("text (诉求内容) is empty", "not a time: “昨天”", "in the future", "not a phone number",
                     "unknown category “noise”", "also on line 2", "outside every grid", "number is empty",
                     "no location", "not a location"):
        assert expected in text


def test_a_work_order_imported_before_is_refused(dw):
    row = HEADER + "GD-1,2026-11-25 09:00,张三,,垃圾没人清运,,116.005,39.905,\n"
    first = run(dw, row)
    with pytest.raises(ImportRejected) as caught:
        run(dw, row)
    assert caught.value.context["errors"] == [
        {"line": 2, "message": f"work order GD-1 was imported before, as demand {first.numbers[0]}"}]
    assert Demand.objects.count() == 1


def test_a_row_the_services_refuse_rolls_back_the_rows_filed_before_it(dw, monkeypatch):
    real = services.file_demand

    def refuse_the_second(user, **kw):
        if kw["text"] == "第二行":
            raise ValidationFailed("refused", code="test")
        return real(user, **kw)

    monkeypatch.setattr(services, "file_demand", refuse_the_second)
    errors = rejected(dw, "诉求内容,经度,纬度\n第一行,116.005,39.905\n第二行,116.005,39.905\n第三行,116.005,39.905\n")
    assert errors[0][0] == 3 and "refused" in errors[0][1]
    assert not DemandEvent.objects.exists()


def test_the_header_and_the_mapping_are_checked_first(dw):
    assert rejected(dw, "") == [(1, "the file is empty: a header line is required")]
    assert "no column “诉求内容” for text" in rejected(dw, "工单号,内容\nA,x\n")[0][1]
    assert "no column “经纬度” for longitude" in rejected(dw, "诉求内容\nx\n", mapping={"longitude": "经纬度"})[0][1]
    with pytest.raises(ValidationFailed, match="列对应关系中有未知字段"):
        run(dw, "诉求内容\nx\n", mapping={"texte": "内容"})
    with pytest.raises(ValidationFailed, match="列对应关系不是有效的 JSON"):
        run(dw, "诉求内容\nx\n", mapping="{")
    with pytest.raises(ImportRejected) as caught:
        with clock.frozen_at(NOW):
            imports.import_hotline("诉求内容\n垃圾\n".encode("gbk"), actor=dw.dispatcher)
    assert "not UTF-8" in caught.value.context["errors"][0]["message"]


def test_the_operator_must_be_an_active_account(dw):
    dw.dispatcher.is_active = False
    with pytest.raises(DomainError):
        run(dw, "诉求内容,经度,纬度\nx,116.005,39.905\n")


def test_the_cli_verb_prints_errors_by_line_and_stores_nothing(dw, tmp_path):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("编号,内容,经度,纬度\nX1,垃圾没人清运,116.005,39.905\n", encoding="utf-8-sig")
    bad.write_text("诉求内容,经度,纬度\n,116.005,39.905\n", encoding="utf-8")
    mapping = tmp_path / "mapping.json"
    mapping.write_text('{"external_id": "编号", "text": "内容"}', encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with clock.frozen_at(NOW):
        report = imports.run_import({"file": str(good), "mapping": str(mapping), "username": "desk_staff"}, out, err)
        assert report.created == 1 and "work orders imported: 1 demands filed" in out.getvalue()
        with pytest.raises(CommandError, match="nothing was stored"):
            imports.run_import({"file": str(bad), "mapping": None, "username": "desk_staff"}, out, err)
        assert "line 2: the demand's text (诉求内容) is empty" in err.getvalue()
        with pytest.raises(CommandError, match="no active user"):
            imports.run_import({"file": str(good), "mapping": None, "username": "nobody"}, out, err)
        with pytest.raises(CommandError, match="cannot read"):
            imports.run_import({"file": str(tmp_path / "missing.csv"), "mapping": None, "username": "desk_staff"},
                               out, err)
    assert Demand.objects.count() == 1


def test_the_verb_parses_its_arguments():
    import argparse

    parser = argparse.ArgumentParser()
    imports.add_import_verb(parser.add_subparsers(dest="verb"))
    options = vars(parser.parse_args(["import", "orders.csv", "--mapping", "m.json", "--as", "operator"]))
    assert options == {"verb": "import", "file": "orders.csv", "mapping": "m.json", "username": "operator"}
    with pytest.raises(SystemExit):
        parser.parse_args(["import", "orders.csv"])  # --as is required


def test_gongzhi_demands_import_is_wired_into_the_command(dw, tmp_path):
    from django.core.management import call_command

    orders = tmp_path / "orders.csv"
    orders.write_text("诉求内容,经度,纬度\n垃圾没人清运,116.005,39.905\n", encoding="utf-8")
    out = io.StringIO()
    with clock.frozen_at(NOW):
        call_command("demands", "import", str(orders), "--as", "desk_staff", stdout=out)
    assert "1 demands filed" in out.getvalue()
    assert Demand.objects.get().channel == "hotline"
