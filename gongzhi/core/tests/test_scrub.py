"""core.scrub: personal data out of public free text however it is written, ordinary numbers left alone."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gongzhi.core.scrub import scrub, scrub_findings

MOBILE = "13812345678"
ID_NUMBER = "11010119900307123X"


def digits_of(text: str) -> str:
    return re.sub(r"\D", "", text.translate(str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)})))


def spelled(digits: str, groups: list[int], sep: str) -> str:
    out, at = [], 0
    for size in groups:
        out.append(digits[at:at + size])
        at += size
    out.append(digits[at:])
    return sep.join(part for part in out if part)


@pytest.mark.parametrize("written", [
    "13812345678", "138 1234 5678", "138-1234-5678", "138.1234.5678", "+86 138 1234 5678", "+86-13812345678",
    "8613812345678", "0086 138 1234 5678", "１３８１２３４５６７８", "1381234 5678", "138 1234-5678",
    # found in review: two or three separators, Chinese commas, brackets
    "138  1234  5678", "138 - 1234 - 5678", "(138)1234-5678", "138，1234，5678", "138、1234、5678",
])
def test_a_mobile_number_is_masked_however_it_is_spaced(written):
    shown = scrub(f"我的电话{written}，请联系")
    assert "1234" not in shown and "138****5678" in shown


@pytest.mark.parametrize("written", [
    "11010119900307123X", "110101 19900307 123X", "110101-19900307-123x", "1101 0119 9003 0712 3X",
    "110101199003071234", "110101900307123", "110101 - 19900307 - 123X", "110101，19900307，123X",
])
def test_an_id_number_is_masked_however_it_is_grouped(written):
    shown = scrub(f"身份证 {written} 复印件")
    assert "[身份证号]" in shown and "19900307" not in digits_of(shown) and "900307" not in shown


@pytest.mark.parametrize("written, area", [
    ("010-12345678", "010"), ("0571 8765 4321", "0571"), ("(010)12345678", "010"), ("（010）12345678", "010"),
    ("021-6234 5678转123", "021"), ("0755-8765432", "0755"), ("01087654321", "010"),
])
def test_a_landline_with_its_area_code_is_masked(written, area):
    shown = scrub(f"座机 {written}")
    local = digits_of(written)[len(area):][:7]
    assert local not in digits_of(shown) and area in shown and "****" in shown


@pytest.mark.parametrize("written", ["电话 8765 4321", "联系电话：87654321", "座机8765-4321", "Tel: 8765 4321",
                                     "电话号码是 8765432"])
def test_a_local_number_named_as_a_phone_is_masked(written):
    shown = scrub(written)
    assert "8765" not in shown and "****" in shown


@pytest.mark.parametrize("text, shown", [
    ("幸福路12号3栋201室门口漏水", "幸福路**号门口漏水"),
    ("住在幸福路12号", "住在幸福路**号"),
    ("中山路88号之2", "中山路**号"),
    ("长安街1-3号院5号楼2单元501", "长安街**号"),
    ("阳光花园3栋2单元501室漏水", "阳光花园**漏水"),
    ("楼上5号楼1201室半夜装修", "楼上**半夜装修"),
    ("12-3-501楼上噪音", "**楼上噪音"),
    ("张家村3组15号", "张家村3组**号"),
    ("双桥乡前营村一组3号门口", "双桥乡前营村一组**号门口"),
    ("2单元501的住户", "**的住户"),
    ("对门501室", "对门**"),
    ("幸福里小区3栋501", "幸福里小区**"),
])
def test_a_house_number_is_masked_and_the_road_kept(text, shown):
    assert scrub(text) == shown


@pytest.mark.parametrize("text", [
    "预算120000元，已支出 35000 元", "2026-12-07开会", "2026年12月7日", "2025-2026年度计划", "共120户、356人",
    "3号楼电梯坏了", "上周五12号开会", "时间09:30-10:30", "预算 1,200,000 元", "20261207", "第2026113000019号诉求",
    "面积 85.5 平方米", "3号楼前 200 米", "13路公交车", "2026年12月7日12号楼", "投票率 66.7%", "第3组", "400-800元",
    "1.5万元", "0.5公里", "5栋", "3单元", "采购管理（修订）", "第一条\u3000总则", "（一）１２月份", "ＡＢＣ＋１",
])
def test_ordinary_numbers_are_not_masked(text):
    assert scrub(text) == text


def test_known_names_are_reduced_to_the_surname():
    assert scrub("张三说李四家漏水", names=["张三", "李四"]) == "张某说李某家漏水"


def test_findings_say_what_was_masked_and_how_it_is_shown():
    shown, findings = scrub_findings("电话138 1234 5678，身份证11010119900307123X，住幸福路12号")
    assert {f.kind for f in findings} == {"mobile", "id_number", "address"}
    assert all(f.shown_as in shown for f in findings)
    assert [f for f in findings if f.kind == "mobile"][0].original == "138 1234 5678"


separators = st.sampled_from(["", " ", "-", ".", "\u3000", "－"])
mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
ids = st.from_regex(r"[1-6][0-9]{5}(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9])[0-9]{3}[0-9X]", fullmatch=True)
landlines = st.from_regex(r"0(10|2[0-9]|[3-9][0-9]{2})[2-8][0-9]{7}", fullmatch=True)
surroundings = st.text(alphabet=st.sampled_from(list("的了我家电话是号码请联系，。 ：abc幸福小区")), max_size=8)


@settings(max_examples=300)
@given(mobiles, st.lists(st.integers(1, 4), max_size=4), separators, surroundings, surroundings)
def test_no_spacing_of_a_mobile_number_survives(mobile, groups, sep, before, after):
    shown = scrub(before + spelled(mobile, groups, sep) + after)
    assert mobile[3:] not in digits_of(shown) and "****" in shown


@settings(max_examples=300)
@given(ids, st.lists(st.integers(2, 8), max_size=3), separators, surroundings, surroundings)
def test_no_spacing_of_an_id_number_survives(id_number, groups, sep, before, after):
    shown = scrub(before + spelled(id_number, groups, sep) + after)
    assert id_number[6:14] not in digits_of(shown)


@settings(max_examples=300)
@given(landlines, st.sampled_from(["-", " ", ""]), surroundings, surroundings)
def test_no_landline_with_its_area_code_survives(number, sep, before, after):
    area = 3 if number[1] in "12" else 4
    shown = scrub(before + number[:area] + sep + number[area:] + after)
    assert number[area:] not in digits_of(shown) and "****" in shown


@given(st.integers(0, 10**9), st.sampled_from(["元", "万元", "人", "户", "次", "米", "平方米", "天"]))
def test_amounts_and_counts_stay(amount, unit):
    text = f"共{amount}{unit}"
    assert scrub(text) == text


@given(st.dates())
def test_dates_stay(day):
    for text in (day.isoformat(), f"{day.year}年{day.month}月{day.day}日", day.strftime("%Y/%m/%d")):
        assert scrub(text) == text


@given(st.text(max_size=60))
def test_scrubbing_twice_changes_nothing_more(text):
    once = scrub(text)
    assert scrub(once) == once
