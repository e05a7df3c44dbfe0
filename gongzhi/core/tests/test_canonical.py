"""Canonical JSON (RFC 8785 / JCS): the RFC's own examples, ECMAScript numbers, Chinese text, stability."""

import json
import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.core.canonical import canonical_json


def test_rfc8785_section_3_2_2_example():
    source = r"""{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }"""
    assert canonical_json(json.loads(source)) == (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    ).encode("utf-8")


def test_keys_sort_by_utf16_code_units_as_in_rfc8785_section_3_2_3():
    keys = ["\u20ac", "\r", "\ufb33", "1", "\U0001f600", "\u0080", "\u00f6", "</script>"]
    out = json.loads(canonical_json({key: i for i, key in enumerate(keys)}))
    # The emoji (surrogates D83D DE00) sorts before U+FB33, although its code point is larger.
    assert list(out) == ["\r", "1", "</script>", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


@pytest.mark.parametrize(
    "bits,expected",
    [  # IEEE 754 bit patterns and their ECMAScript serialisation, from the JCS number tests
        (0x0000000000000000, "0"),
        (0x8000000000000000, "0"),
        (0x0000000000000001, "5e-324"),
        (0x8000000000000001, "-5e-324"),
        (0x7FEFFFFFFFFFFFFF, "1.7976931348623157e+308"),
        (0x4340000000000000, "9007199254740992"),
        (0x444B1AE4D6E2EF50, "1e+21"),
        (0x444B1AE4D6E2EF4F, "999999999999999900000"),
        (0x44B52D02C7E14AF6, "1e+23"),
        (0x3EB0C6F7A0B5ED8D, "0.000001"),
        (0x3EB0C6F7A0B5ED8C, "9.999999999999997e-7"),
        (0x41B3DE4355555555, "333333333.3333333"),
    ],
)
def test_floats_follow_ecmascript_number_to_string(bits, expected):
    value = struct.unpack(">d", bits.to_bytes(8, "big"))[0]
    assert canonical_json(value) == expected.encode()


def test_integral_floats_lose_their_point_and_integers_stay_exact():
    assert canonical_json([1.0, -2.0, 100, 2**70, True]) == b"[1,-2,100,1180591620717411303424,true]"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, {"a": [math.nan]}])
def test_nan_and_infinity_have_no_canonical_form(value):
    with pytest.raises(ValueError):
        canonical_json(value)


def test_chinese_text_is_written_as_utf8_not_escaped():
    demand = {"title": "楼道灯坏了", "grid": "朝阳区·第三网格", "置顶": False}
    assert canonical_json(demand) == '{"grid":"朝阳区·第三网格","title":"楼道灯坏了","置顶":false}'.encode("utf-8")


def test_nested_objects_are_sorted_at_every_depth_without_whitespace():
    value = {"b": {"y": [3, {"d": 1, "c": 2}], "x": None}, "a": []}
    assert canonical_json(value) == b'{"a":[],"b":{"x":null,"y":[3,{"c":2,"d":1}]}}'


def test_only_quote_backslash_and_controls_are_escaped():
    assert canonical_json("\x00\x1f\x7f\u2028/\t") == '"\\u0000\\u001f\x7f\u2028/\\t"'.encode("utf-8")


@pytest.mark.parametrize("value", [{1: "a"}, {None: 1}, {("a",): 1}, {"a": {1, 2}}, b"bytes", object()])
def test_non_json_values_and_non_string_keys_are_refused(value):
    with pytest.raises(TypeError):
        canonical_json(value)


def test_lone_surrogate_is_refused():
    with pytest.raises(ValueError):
        canonical_json("\ud800")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(blacklist_categories=("Cs",))),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8), children, max_size=5),
    max_leaves=25,
)


@given(json_values)
def test_output_is_a_fixed_point_of_parse_and_reserialise(value):
    once = canonical_json(value)
    assert canonical_json(json.loads(once)) == once


@given(st.dictionaries(st.text(max_size=5), st.integers(), max_size=8))
def test_member_order_of_the_input_does_not_matter(value):
    reversed_value = dict(reversed(list(value.items())))
    assert canonical_json(reversed_value) == canonical_json(value)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_float_round_trips_exactly(value):
    assert float(json.loads(canonical_json(value))) == value
