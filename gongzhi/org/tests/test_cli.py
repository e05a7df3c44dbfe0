"""`gongzhi org ...`: coverage, import and export from the command line."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from gongzhi.org.models import PersonalDataAccess, Person, Post, Region
from gongzhi.org.tests.factories import square
from gongzhi.org.tests.test_imports import collection, feature, id_number, small_tree

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[3]


def run(*args, stdin: str | None = None, monkeypatch=None) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8"))
    call_command("org", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_coverage_prints_a_table_of_the_gaps(world):
    out, _ = run("coverage")
    assert "Grids without a grid worker (3)" in out
    assert "A1  东园一网格" in out
    assert "Buildings without a building lead (2)" in out
    assert "Committees without a party organisation (1)" in out and "西园社区居委会" in out


def test_coverage_of_one_region_as_json(world):
    Post.objects.create(person=world.resident_a, organisation=world.committee_a, role="grid_worker",
                        grid=world.grid_a1, start_date="2020-01-01")
    out, _ = run("coverage", "--region", "110199001001", "--json")
    report = json.loads(out)
    assert report["region"] == "东园社区"
    assert [g["grid_code"] for g in report["grids_without_worker"]] == ["A2"]
    assert report["gap_count"] == 2


def test_coverage_of_an_unknown_region_is_an_error(world):
    with pytest.raises(CommandError, match="no region with admin_code or grid_code 999"):
        run("coverage", "--region", "999")


def test_import_geojson_from_a_file(tmp_path):
    path = tmp_path / "regions.geojson"
    path.write_text(collection(*small_tree()), encoding="utf-8")
    out, _ = run("import-geojson", str(path))
    assert "5 created, 0 updated" in out
    assert Region.objects.count() == 5


def test_import_geojson_prints_each_bad_feature_with_its_line_and_fails(tmp_path, capsys):
    features = small_tree()
    features[3]["geometry"] = square(114.005, 22.50)  # overlaps GM2
    features[1]["properties"]["admin_code"] = "X"
    path = tmp_path / "bad.geojson"
    path.write_text(collection(*features), encoding="utf-8")
    err = io.StringIO()

    with pytest.raises(CommandError, match="nothing was stored"):
        call_command("org", "import-geojson", str(path), stderr=err)

    lines = err.getvalue().splitlines()
    assert lines[0].startswith("line 3: feature 2: admin_code 'X'")
    assert any(line.startswith("line 5: feature 4: grid GM1 overlaps grid GM2") for line in lines)
    assert Region.objects.count() == 0


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(CommandError, match="no such file: .*nowhere.geojson"):
        run("import-geojson", str(tmp_path / "nowhere.geojson"))


def test_import_geojson_from_stdin(monkeypatch):
    out, _ = run("import-geojson", "-", stdin=collection(*small_tree()), monkeypatch=monkeypatch)
    assert "5 created" in out


def test_export_geojson_to_a_file_one_feature_per_line(world, tmp_path):
    path = tmp_path / "out.geojson"
    run("export-geojson", str(path), "--region", "110199001001")
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    assert [f["properties"]["grid_code"] for f in data["features"][1:]] == ["A1", "A2"]
    assert len(text.splitlines()) == 2 + len(data["features"])


def test_export_geojson_to_stdout_imports_back(world):
    out, _ = run("export-geojson", "-")
    assert json.loads(out)["features"][0]["properties"]["name"] == "示范区"


def test_import_people_from_stdin_and_export_without_personal_data(world, monkeypatch, tmp_path):
    text = ("person_ref,name,id_number,phone,organisation,role,grid,start_date\n"
            f"1,王芳,{id_number()},13905710001,东园社区居委会,grid_worker,A2,2022-01-01\n"
            "1,,,,东园社区党委,委员,,2022-01-01\n")
    out, _ = run("import-people", "-", stdin=text, monkeypatch=monkeypatch)
    assert "1 created" in out and "2 posts" in out

    path = tmp_path / "people.csv"
    run("export-people", str(path), "--region", "110199001001")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8
    assert "王芳" in raw.decode("utf-8-sig") and "13905710001" not in raw.decode("utf-8-sig")
    assert PersonalDataAccess.objects.count() == 0


def test_import_people_prints_each_bad_row(world, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("name,phone,grid,organisation,role,start_date\n"
                    "好人,13905710001,,,,\n"
                    "坏人,110,,,,\n"
                    "网格员,,Z9,东园社区居委会,grid_worker,2022-01-01\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("org", "import-people", str(path), stderr=err)
    assert err.getvalue().splitlines() == [
        "line 3: phone 110 is not a mobile (13812345678) or landline (010-12345678) number",
        "line 4: no grid with grid_code Z9",
    ]
    assert not Person.objects.filter(name="好人").exists()


def test_export_people_with_personal_data_needs_a_purpose(world):
    with pytest.raises(CommandError, match="purpose"):
        run("export-people", "-", "--with-personal-data")
    out, _ = run("export-people", "-", "--with-personal-data", "--purpose", "换届选举核对")
    assert "13900001111" in out
    assert PersonalDataAccess.objects.filter(channel="export", purpose="换届选举核对").count() == Person.objects.count()


@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
                    reason="runs the real console script against a throwaway SQLite file")
def test_the_console_script_rejects_a_bad_file_with_its_line_and_a_non_zero_exit(tmp_path):
    features = [feature("新区", "district", admin_code="440199000000"),
                feature("网格", "grid", grid_code="G1", parent="440199000000", geometry=square(114, 22))]
    bad = tmp_path / "bad.geojson"
    bad.write_text(collection(*features), encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "GONGZHI_VAR_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    gongzhi = str(Path(sys.executable).parent / "gongzhi")

    migrate = subprocess.run([gongzhi, "migrate", "-v", "0"], env=env, capture_output=True, text=True, timeout=300)
    assert migrate.returncode == 0, migrate.stderr
    result = subprocess.run([gongzhi, "org", "import-geojson", str(bad)], env=env, capture_output=True, text=True,
                            timeout=120)

    assert result.returncode != 0
    assert "line 3: feature 2: a grid must sit directly under a community or village" in result.stderr

    good = subprocess.run([gongzhi, "org", "import-geojson", str(REPO / "docs/examples/regions.geojson")], env=env,
                          capture_output=True, text=True, timeout=120)
    assert good.returncode == 0 and "8 created" in good.stdout
