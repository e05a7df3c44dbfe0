"""Import and export of regions (GeoJSON) and people (CSV): all or nothing, every error with its line."""

import csv
import io
import json
from pathlib import Path

import pytest
from shapely.geometry import shape

from gongzhi.core.errors import ImportRejected, ValidationFailed
from gongzhi.core.models import Event
from gongzhi.org import imports
from gongzhi.org.models import (
    Building, Household, Organisation, Person, PersonalData, PersonalDataAccess, Post, Region,
)
from gongzhi.org.rules import id_number_check_digit
from gongzhi.org.tests.factories import square

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"


# -- helpers ------------------------------------------------------------------------------------

def feature(name, kind, *, admin_code=None, grid_code=None, parent=None, geometry=None):
    properties = {"name": name, "kind": kind}
    for key, value in (("admin_code", admin_code), ("grid_code", grid_code), ("parent", parent)):
        if value is not None:
            properties[key] = value
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features) -> str:
    """A FeatureCollection with feature n (from 1) on line n + 1."""
    body = ",\n".join(json.dumps(f, ensure_ascii=False) for f in features)
    return '{"type": "FeatureCollection", "features": [\n' + body + "\n]}\n"


def small_tree():
    """district > street > community with two grids side by side (sharing a border)."""
    return [
        feature("新区", "district", admin_code="440199000000"),
        feature("光明街道", "street", admin_code="440199001000", parent="440199000000"),
        feature("光明社区", "community", admin_code="440199001001", parent="440199001000"),
        feature("光明一网格", "grid", grid_code="GM1", parent="440199001001", geometry=square(114.00, 22.50)),
        feature("光明二网格", "grid", grid_code="GM2", parent="440199001001", geometry=square(114.01, 22.50)),
    ]


def rejected_errors(call, *args, **kwargs) -> list[dict]:
    with pytest.raises(ImportRejected) as info:
        call(*args, **kwargs)
    return info.value.context["errors"]


def delete_all_regions():
    for level in (4, 3, 2, 1):
        Region.objects.filter(level=level).delete()


def id_number(birth: str = "19800101", sequence: str = "001", prefix: str = "110199") -> str:
    first17 = prefix + birth + sequence
    return first17 + id_number_check_digit(first17)


# -- regions: GeoJSON ---------------------------------------------------------------------------

def test_a_good_file_creates_the_tree_and_derives_polygons_above_the_grids():
    report = imports.import_geojson(collection(*small_tree()))

    assert (report.created, report.updated) == (5, 0)
    community = Region.objects.get(admin_code="440199001001")
    assert set(community.children.values_list("grid_code", flat=True)) == {"GM1", "GM2"}
    assert [r.name for r in community.ancestors()] == ["新区", "光明街道"]
    expected = shape(square(114.00, 22.50)).union(shape(square(114.01, 22.50)))
    assert shape(community.polygon).symmetric_difference(expected).area < 1e-12
    assert shape(Region.objects.get(admin_code="440199000000").polygon).equals(shape(community.polygon))
    event = Event.objects.get(kind="org.regions_imported")
    assert event.subject_id == str(Region.objects.get(admin_code="440199000000").pk)
    assert event.data == {"created": 5, "updated": 0}


def test_the_example_file_imports_with_children_before_their_parents():
    report = imports.import_geojson((EXAMPLES / "regions.geojson").read_bytes())

    assert report.created == 8
    assert Region.objects.get(grid_code="HD-01").parent.name == "河东社区"
    assert Region.objects.get(admin_code="330199100201").parent.kind == "township"
    assert Region.objects.get(admin_code="330199000000").polygon["type"] == "MultiPolygon"


def test_utf8_with_bom_is_accepted():
    report = imports.import_geojson("\ufeff".encode() + collection(*small_tree()).encode())
    assert report.created == 5


def test_one_bad_feature_rejects_the_whole_file_with_its_line_and_stores_nothing(world):
    before = (Region.objects.count(), Event.objects.count())
    features = small_tree()
    features[2]["properties"]["kind"] = "neighbourhood"  # on line 4

    errors = rejected_errors(imports.import_geojson, collection(*features))

    assert len(errors) == 1
    assert errors[0]["line"] == 4 and errors[0]["feature"] == 3
    assert "kind 'neighbourhood' is not one of" in errors[0]["message"]
    assert (Region.objects.count(), Event.objects.count()) == before


def test_every_error_of_the_file_is_reported_at_once():
    features = small_tree()
    features[0]["properties"]["kind"] = "province"
    features[3]["geometry"] = None
    features[4]["properties"]["grid_code"] = "GM1"

    errors = rejected_errors(imports.import_geojson, collection(*features))

    assert [e["line"] for e in errors] == [2, 5, 6]
    assert "province" in errors[0]["message"]
    assert "needs a geometry" in errors[1]["message"]
    assert "GM1 is already used by feature 4 (line 5)" in errors[2]["message"]
    assert Region.objects.count() == 0


def test_line_numbers_follow_a_pretty_printed_file():
    features = small_tree()
    features[4]["properties"]["parent"] = "440199009999"
    text = json.dumps({"type": "FeatureCollection", "features": features}, indent=2, ensure_ascii=False)
    feature_starts = [n for n, line in enumerate(text.splitlines(), start=1) if line == "    {"]

    errors = rejected_errors(imports.import_geojson, text)

    assert errors[0]["feature"] == 5
    assert errors[0]["line"] == feature_starts[4] > 30


def test_overlapping_grids_of_one_community_are_rejected():
    features = small_tree()
    features[4]["geometry"] = square(114.005, 22.505)  # overlaps GM1 by a quarter

    errors = rejected_errors(imports.import_geojson, collection(*features))

    assert len(errors) == 1
    assert errors[0]["line"] == 5 and "overlaps grid GM2 (feature 5, line 6)" in errors[0]["message"]
    assert Region.objects.count() == 0


def test_a_new_grid_overlapping_a_stored_grid_of_the_same_community_is_rejected(world):
    before = Region.objects.count()
    text = collection(feature("东园三网格", "grid", grid_code="A3", parent="110199001001",
                              geometry=square(116.005, 39.905)))

    errors = rejected_errors(imports.import_geojson, text)

    assert "overlaps stored grid A1" in errors[0]["message"]
    assert Region.objects.count() == before


def test_grids_of_different_communities_may_overlap_no_rule_between_them(world):
    text = collection(feature("西园二网格", "grid", grid_code="B2", parent="110199001002",
                              geometry=square(116.005, 39.905)))
    assert imports.import_geojson(text).created == 1


def test_unknown_parent_is_rejected():
    features = small_tree()
    features[2]["properties"]["parent"] = "440199002000"

    errors = rejected_errors(imports.import_geojson, collection(*features))

    assert errors == [{"line": 4, "feature": 3,
                       "message": "parent 440199002000 is neither in the file nor in the database"}]


def test_a_region_must_sit_directly_under_the_level_above():
    features = small_tree()
    features[3]["properties"]["parent"] = "440199001000"  # a grid under a street

    errors = rejected_errors(imports.import_geojson, collection(*features))

    assert errors[0]["line"] == 5
    assert "a grid must sit directly under a community or village" in errors[0]["message"]


def test_parents_that_loop_are_rejected():
    text = collection(
        feature("甲街道", "street", admin_code="440199001000", parent="440199002000"),
        feature("乙街道", "street", admin_code="440199002000", parent="440199001000"),
    )
    errors = rejected_errors(imports.import_geojson, text)
    assert [e["line"] for e in errors] == [2, 3]
    assert all("loop" in e["message"] for e in errors)


@pytest.mark.parametrize("geometry, message", [
    ({"type": "Polygon", "coordinates": [[[114, 22], [114.01, 22.01], [114.01, 22], [114, 22.01], [114, 22]]]},
     "invalid geometry"),
    ({"type": "Polygon", "coordinates": [[[114, 22], [114.01, 22], [114.01, 22.01], [114, 22.01]]]},
     "not closed"),
    ({"type": "Polygon", "coordinates": [[[22, 114], [22, 114.01], [22.01, 114.01], [22, 114]]]},
     "swapped"),
    ({"type": "Point", "coordinates": [114, 22]}, "Polygon or MultiPolygon"),
])
def test_bad_geometry_is_rejected(geometry, message):
    features = small_tree()
    features[3]["geometry"] = geometry
    errors = rejected_errors(imports.import_geojson, collection(*features))
    assert errors[0]["line"] == 5 and message in errors[0]["message"]


def test_invalid_json_is_rejected_with_its_line_and_column():
    text = collection(*small_tree()).replace('"kind": "street"', '"kind": "street",,')
    errors = rejected_errors(imports.import_geojson, text)
    assert errors[0]["line"] == 3
    assert "line 3, column" in errors[0]["message"]
    assert Region.objects.count() == 0


def test_a_file_that_is_not_a_feature_collection_is_rejected():
    errors = rejected_errors(imports.import_geojson, '{"type": "Feature"}')
    assert "FeatureCollection" in errors[0]["message"]


def test_a_feature_matching_a_stored_code_updates_that_region(world):
    text = collection(
        feature("东园第一网格", "grid", grid_code="A1", parent="110199001001", geometry=square(116.00, 39.90)),
        feature("东园二网格", "grid", grid_code="A2", parent="110199001002", geometry=square(116.03, 39.90)),
    )
    before = Region.objects.count()

    report = imports.import_geojson(text)

    assert (report.created, report.updated) == (0, 2)
    assert Region.objects.count() == before
    world.grid_a1.refresh_from_db()
    world.grid_a2.refresh_from_db()
    assert world.grid_a1.name == "东园第一网格"
    assert world.grid_a2.parent == world.community_b
    assert world.grid_a2.path.startswith(world.community_b.path)
    world.community_a.refresh_from_db()
    assert shape(world.community_a.polygon).equals(shape(square(116.00, 39.90)))  # A2 moved out


def test_a_stored_region_cannot_change_its_level(world):
    text = collection(feature("东园社区", "street", admin_code="110199001001", parent="110199000000"))
    errors = rejected_errors(imports.import_geojson, text)
    assert "cannot become a street" in errors[0]["message"]


def test_export_then_import_into_an_empty_database_gives_the_same_tree():
    imports.import_geojson((EXAMPLES / "regions.geojson").read_text())
    imports.import_geojson(collection(*small_tree()))
    exported = imports.export_geojson()

    def tree():
        return sorted(
            (r.name, r.kind, r.admin_code, r.grid_code, r.parent.name if r.parent else None, json.dumps(r.polygon))
            for r in Region.objects.select_related("parent")
        )

    before = tree()
    delete_all_regions()

    report = imports.import_geojson(json.dumps(exported))

    assert report.created == 13
    assert tree() == before

    def as_set(collection):
        return sorted(json.dumps(f, sort_keys=True, ensure_ascii=False) for f in collection["features"])

    assert as_set(imports.export_geojson()) == as_set(exported)


def test_export_of_a_subtree_names_the_parent_of_its_root(world):
    exported = imports.export_geojson(world.community_a)
    assert [f["properties"]["name"] for f in exported["features"]] == ["东园社区", "东园一网格", "东园二网格"]
    assert exported["features"][0]["properties"]["parent"] == "110199001000"
    assert imports.import_geojson(json.dumps(exported)).updated == 3


def test_a_database_error_during_the_writes_stores_nothing(monkeypatch):
    from django.db import IntegrityError

    def fail(*args, **kwargs):
        raise IntegrityError("simulated")

    monkeypatch.setattr(imports.events, "record", fail)
    with pytest.raises(ImportRejected):
        imports.import_geojson(collection(*small_tree()))
    assert Region.objects.count() == 0


# -- people: CSV --------------------------------------------------------------------------------

HEADER = imports.COLUMNS


def people_csv(*rows: dict, bom: bool = False) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER)
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return ("\ufeff" if bom else "") + out.getvalue()


def counts():
    return (Person.objects.count(), Post.objects.count(), Household.objects.count(), PersonalData.objects.count(),
            Event.objects.count())


def test_one_person_may_hold_two_posts(world):
    text = people_csv(
        {"person_ref": "W1", "name": "王芳", "gender": "女", "birth_date": "1978-03-12", "phone": "13905710001",
         "id_number": id_number("19780312", "022"), "building": "A1/1号楼", "unit": "3-303",
         "relation_to_head": "户主", "is_party_member": "是", "party_organisation": "东园社区党委",
         "organisation": "东园社区党委", "role": "secretary", "title": "党委书记", "start_date": "2021-06-01"},
        {"person_ref": "W1", "organisation": "东园社区居委会", "role": "主任", "title": "居委会主任",
         "start_date": "2021/6/1"},
        {"person_ref": "L2", "name": "李强", "id_number": id_number("19850720", "031"), "residence": "110199001001",
         "organisation": "东园社区居委会", "role": "grid_worker", "grid": "A2", "start_date": "2022-01-01"},
        {"person_ref": "Z3", "name": "赵敏", "building": "B1/9号楼", "unit": "2-202",
         "organisation": "西园社区居委会", "role": "building_lead", "led_building": "B1/9号楼", "start_date": "2023-03-01"},
    )

    report = imports.import_people(text)

    assert (report.created, report.updated) == (3, 0)
    assert report.counts == {"posts": 4, "households": 1}
    wang = Person.objects.get(name="王芳")
    assert sorted(wang.posts.values_list("role", flat=True)) == ["director", "secretary"]
    assert wang.household.building == world.building_a1 and wang.household.unit == "3-303"
    assert wang.residence == world.community_a  # from the building
    assert wang.party_branch == world.party_a and wang.gender == "F"
    assert wang.personal_data.phone == "13905710001"
    li = Person.objects.get(name="李强")
    assert li.posts.get().grid == world.grid_a2
    assert (li.gender, li.birth_date.isoformat()) == ("M", "1985-07-20")  # from the ID number
    zhao = Person.objects.get(name="赵敏")
    assert zhao.household == world.household_b  # an existing household is reused
    assert zhao.posts.get().building == world.building_b1
    assert Event.objects.filter(kind="org.people_imported").count() == 1


def test_the_example_people_file_imports_after_its_regions_organisations_and_buildings():
    imports.import_geojson((EXAMPLES / "regions.geojson").read_bytes())
    community, village = Region.objects.get(admin_code="330199001001"), Region.objects.get(admin_code="330199100201")
    for name, kind in (("河东社区党委", "party_committee"), ("河东社区居委会", "residents_committee"),
                       ("河东花园物业", "property_company")):
        Organisation.objects.create(name=name, kind=kind, region=community)
    for name, kind in (("竹林村党支部", "party_branch"), ("竹林村村委会", "villagers_committee")):
        Organisation.objects.create(name=name, kind=kind, region=village)
    for grid, name in (("HD-01", "1号楼"), ("HD-02", "5号楼")):
        Building.objects.create(grid=Region.objects.get(grid_code=grid), name=name, address=name,
                                longitude=120.1, latitude=30.2)

    report = imports.import_people((EXAMPLES / "people.csv").read_bytes())

    assert report.created == 6 and report.counts["posts"] == 8
    assert Person.objects.get(name="周建国").posts.filter(end_date__isnull=True).count() == 2


def test_bad_rows_are_reported_with_their_lines_and_nothing_is_stored(world):
    before = counts()
    text = people_csv(
        {"name": "好人", "id_number": id_number(), "building": "A1/1号楼", "unit": "9-909"},
        {"name": "错号", "id_number": "110199198001010010"},
        {"name": "错电话", "phone": "12345"},
        {"name": "错网格", "organisation": "东园社区居委会", "role": "grid_worker", "grid": "Z9", "start_date": "2022-01-01"},
        {"name": "无网格", "organisation": "东园社区居委会", "role": "grid_worker", "start_date": "2022-01-01"},
        {"name": "错角色", "organisation": "东园社区居委会", "role": "boss", "start_date": "2022-01-01"},
    )

    errors = rejected_errors(imports.import_people, text)

    by_line = {e["line"]: e["message"] for e in errors}
    assert sorted(by_line) == [3, 4, 5, 6, 7]
    assert "not a valid resident ID number" in by_line[3]
    assert "phone 12345" in by_line[4]
    assert "no grid with grid_code Z9" in by_line[5]
    assert "grid_worker needs a grid" in by_line[6]
    assert "role 'boss'" in by_line[7]
    assert counts() == before


def test_a_multi_line_cell_does_not_shift_the_line_numbers(world):
    text = people_csv(
        {"name": "张\n三", "registered_elsewhere": "第一行\n第二行"},
        {"name": "坏日期", "birth_date": "1990-13-01"},
    )
    errors = rejected_errors(imports.import_people, text)
    assert [e["line"] for e in errors] == [5]  # the first record spans lines 2 to 4


def test_utf8_with_bom_as_excel_writes_it_is_accepted(world):
    text = people_csv({"name": "王五", "residence": "110199001002"}, bom=True)
    assert imports.import_people(text.encode("utf-8")).created == 1


def test_text_that_is_not_utf8_is_rejected_with_a_hint():
    text = people_csv({"name": "王五"}).encode("gbk")
    errors = rejected_errors(imports.import_people, text)
    assert errors[0]["line"] == 2 and "CSV UTF-8" in errors[0]["message"]


def test_an_unknown_column_is_reported_on_line_one():
    text = "name,nickname\n王五,小王\n"
    errors = rejected_errors(imports.import_people, text)
    assert errors[0]["line"] == 1 and "nickname" in errors[0]["message"]


def test_an_id_number_spoilt_by_excel_gets_a_hint():
    errors = rejected_errors(imports.import_people, "name,id_number\n王五,1.10199E+17\n")
    assert "format the column as text" in errors[0]["message"]


def test_further_rows_of_a_person_may_not_contradict_the_first(world):
    text = people_csv(
        {"person_ref": "X", "name": "王五", "organisation": "东园社区党委", "role": "member", "start_date": "2020-01-01"},
        {"person_ref": "X", "name": "王六", "organisation": "东园社区居委会", "role": "member", "start_date": "2020-01-01"},
    )
    errors = rejected_errors(imports.import_people, text)
    assert errors[0]["line"] == 3 and "differs from line 2" in errors[0]["message"]


def test_an_ambiguous_organisation_name_needs_its_region_code(world):
    Organisation.objects.create(name="党支部", kind="party_branch", region=world.community_a)
    Organisation.objects.create(name="党支部", kind="party_branch", region=world.community_b)
    row = {"name": "王五", "role": "member", "start_date": "2020-01-01"}

    errors = rejected_errors(imports.import_people, people_csv({**row, "organisation": "党支部"}))
    assert "2 organisations are named '党支部'" in errors[0]["message"]

    imports.import_people(people_csv({**row, "organisation": "110199001002/党支部"}))
    assert Post.objects.get(person__name="王五").organisation.region == world.community_b


def test_importing_again_updates_people_by_id_number_without_duplicating_posts(world):
    text = people_csv(
        {"person_ref": "1", "name": "王芳", "id_number": id_number("19780312", "022"),
         "organisation": "东园社区党委", "role": "secretary", "start_date": "2021-06-01"},
    )
    imports.import_people(text)
    report = imports.import_people(text.replace("王芳", "王芳芳"))
    assert (report.created, report.updated, report.counts["posts"]) == (0, 1, 0)
    assert Person.objects.get(personal_data__id_number=id_number("19780312", "022")).name == "王芳芳"
    assert Post.objects.filter(person__name="王芳芳").count() == 1


def exported_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_export_without_personal_data_leaves_phone_and_id_number_empty(world):
    rows = exported_rows(imports.export_people())

    zhang = next(r for r in rows if r["name"] == "张三")
    assert (zhang["phone"], zhang["id_number"]) == ("", "")
    assert zhang["building"] == "A1/1号楼" and zhang["unit"] == "1-101"
    assert all(r["phone"] == "" and r["id_number"] == "" for r in rows)
    assert PersonalDataAccess.objects.count() == 0


def test_export_with_personal_data_logs_one_access_per_person(world):
    rows = exported_rows(imports.export_people(world.community_a, with_personal_data=True, purpose="换届选举核对"))

    people = {r["person_ref"] for r in rows}
    zhang = next(r for r in rows if r["name"] == "张三")
    assert (zhang["phone"], zhang["id_number"]) == ("13900001111", "110105198001010032")
    accesses = PersonalDataAccess.objects.all()
    assert len(accesses) == len(people)
    assert {f"P{a.person_id}" for a in accesses} == people
    assert all(a.channel == "export" and a.purpose == "换届选举核对" and a.fields == ["phone", "id_number"]
               for a in accesses)


def test_export_with_personal_data_needs_a_purpose(world):
    with pytest.raises(ValidationFailed):
        imports.export_people(with_personal_data=True, purpose="  ")
    assert PersonalDataAccess.objects.count() == 0


def test_an_actor_exports_only_the_personal_data_their_posts_grant(world):
    rows = exported_rows(imports.export_people(with_personal_data=True, purpose="走访", actor=world.secretary_b))
    by_name = {r["name"]: r for r in rows if r["name"]}
    assert by_name["李四"]["phone"] == "13900002222"
    assert by_name["张三"]["phone"] == ""
    assert set(PersonalDataAccess.objects.values_list("person__name", flat=True)) >= {"李四"}
    assert not PersonalDataAccess.objects.filter(person__name="张三").exists()
    assert all(a.user == world.secretary_b for a in PersonalDataAccess.objects.all())


def test_an_export_imports_back_as_the_same_people_and_posts(world):
    text = people_csv(
        {"person_ref": "W1", "name": "王芳", "id_number": id_number("19780312", "022"), "phone": "0571-86001234",
         "building": "A1/1号楼", "unit": "1-101", "is_party_member": "是", "party_organisation": "东园社区党委",
         "organisation": "东园社区党委", "role": "secretary", "start_date": "2021-06-01"},
        {"person_ref": "W1", "organisation": "东园社区居委会", "role": "director", "start_date": "2021-06-01",
         "end_date": "2024-01-01"},
    )
    imports.import_people(text)
    wang = Person.objects.get(name="王芳")
    exported = imports.export_people(with_personal_data=True, purpose="备份")
    mine = [r for r in exported_rows(exported) if r["person_ref"] == f"P{wang.pk}"]
    assert len(mine) == 2 and mine[1]["name"] == ""

    only_wang = "\r\n".join([exported.splitlines()[0]] + [line for line in exported.splitlines()
                                                         if line.startswith(f"P{wang.pk},")]) + "\r\n"
    report = imports.import_people(only_wang)

    assert (report.created, report.updated, report.counts["posts"]) == (0, 1, 0)
    assert wang.posts.count() == 2


def test_formula_like_cells_are_neutralised_on_export_and_restored_on_import(world):
    Person.objects.create(name="=HYPERLINK()", residence=world.community_a)
    text = imports.export_people()
    assert "'=HYPERLINK()" in text
    row = next(r for r in exported_rows(text) if "HYPERLINK" in r["name"])
    assert imports._cell(row["name"]) == "=HYPERLINK()"
