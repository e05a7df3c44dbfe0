"""core.text: the one check for free text people type."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.core.errors import ValidationFailed
from gongzhi.core.text import clean_optional_text, clean_text, problem

INVISIBLE = ["", "   ", "\u200b", "\u200b\u200c\u200d", "\ufeff", "\u2060\u00a0\u3000", "\u3164", "\t\n\r ",
             "\u202e\u200f", "\u2800"]


@pytest.mark.parametrize("value", INVISIBLE)
def test_a_text_of_only_invisible_characters_is_refused_with_a_reason(value):
    with pytest.raises(ValidationFailed) as refused:
        clean_text(value, "comment")
    assert refused.value.code == "empty" and "invisible" in refused.value.message("en")
    assert "不可见字符" in refused.value.message("zh-hans")


@pytest.mark.parametrize("value", ["\x00", "路灯坏了\x00", "\x00\u200b", "a\x07b"])
def test_a_nul_or_control_character_anywhere_is_refused(value):
    with pytest.raises(ValidationFailed) as refused:
        clean_text(value, "a description", code="text_required")
    assert refused.value.code == "invalid_text"


def test_an_unpaired_surrogate_is_refused():
    with pytest.raises(ValidationFailed) as refused:
        clean_text("路灯\ud800", "comment")
    assert refused.value.code == "invalid_text"


def test_the_text_is_trimmed_of_invisible_ends_and_kept_inside():
    assert clean_text("\ufeff  路灯坏了\u200b 三天了\n\u200b", "comment") == "路灯坏了\u200b 三天了"


def test_line_breaks_and_tabs_inside_a_text_are_kept():
    assert clean_text("第一行\n第二行\t完", "comment") == "第一行\n第二行\t完"


def test_the_callers_code_names_the_empty_text():
    with pytest.raises(ValidationFailed) as refused:
        clean_text("\u200b", "a description", code="text_required")
    assert refused.value.code == "text_required"


def test_too_long_counts_the_trimmed_text():
    assert clean_text("  abc  ", "title", max_length=3) == "abc"
    with pytest.raises(ValidationFailed) as refused:
        clean_text("abcd", "title", max_length=3)
    assert refused.value.code == "too_long"


def test_an_optional_text_may_be_blank_but_not_hold_a_nul():
    assert clean_optional_text("\u200b ", "address") == ""
    assert clean_optional_text(None, "address") == ""
    with pytest.raises(ValidationFailed):
        clean_optional_text("幸福路\x00", "address")


@given(st.text())
def test_a_text_passes_exactly_when_it_has_a_visible_character_and_no_nul(value):
    try:
        cleaned = clean_text(value, "text")
    except ValidationFailed:
        assert problem(value) is not None
    else:
        assert problem(value) is None and cleaned and problem(cleaned) is None and cleaned in value
