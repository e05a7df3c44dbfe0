"""Canonical JSON (RFC 8785, JSON Canonicalization Scheme): one byte string per value, for hashing.

Ledger entries are hashed, so the same value must always serialise to the same bytes, whoever
produces it (Python here, JavaScript or Go in an auditor's tool). JCS fixes the three choices plain
`json.dumps` leaves open:

* object members sorted by their keys compared as UTF-16 code units (not code points: the two orders
  differ for characters above U+FFFF against U+E000–U+FFFF);
* no insignificant whitespace, UTF-8 output, non-ASCII characters written as themselves
  ("街道" stays 街道, not \\u8857\\u9053); only ``"``, ``\\`` and control characters are escaped, the
  way ECMAScript's JSON.stringify does it;
* numbers written as ECMAScript's Number.prototype.toString writes them.

Choices where JCS leaves room or Python differs from JSON:

* Floats ARE accepted and serialised per ECMAScript (1.0 → ``1``, 1e21 → ``1e+21``, 1e-7 → ``1e-7``);
  NaN and ±Infinity have no JSON form and raise ValueError. ``-0.0`` becomes ``0`` as in ECMAScript.
  Domain code should still prefer integers or decimal strings for money and measurements.
* Python ints are written exactly, whatever their size. JCS assumes IEEE doubles, so an integer above
  2**53 would be rounded by a JavaScript verifier; keep identifiers and counts below that.
* Keys must be ``str`` (no silent ``str(1)``); tuples serialise like lists; anything else that is
  not None/bool/int/float/str/list/tuple/dict raises TypeError.
* Strings must be valid Unicode: a lone surrogate raises ValueError (UnicodeEncodeError).
"""

import json
import math
import re

__all__ = ["canonical_json"]

_REPR_FLOAT = re.compile(r"^(?P<int>\d+)(?:\.(?P<frac>\d+))?(?:e(?P<exp>[+-]?\d+))?$")


def canonical_json(obj) -> bytes:
    """Serialise `obj` to its RFC 8785 canonical UTF-8 bytes."""
    parts: list[str] = []
    _write(obj, parts)
    return "".join(parts).encode("utf-8")


def _write(obj, parts: list[str]) -> None:
    # bool before int: True is an int in Python but `true` in JSON.
    if obj is None:
        parts.append("null")
    elif obj is True:
        parts.append("true")
    elif obj is False:
        parts.append("false")
    elif isinstance(obj, int):
        parts.append(str(int(obj)))
    elif isinstance(obj, float):
        parts.append(_ecmascript_number(obj))
    elif isinstance(obj, str):
        parts.append(_string(obj))
    elif isinstance(obj, (list, tuple)):
        parts.append("[")
        for position, item in enumerate(obj):
            if position:
                parts.append(",")
            _write(item, parts)
        parts.append("]")
    elif isinstance(obj, dict):
        for key in obj:
            if not isinstance(key, str):
                raise TypeError(f"canonical JSON object keys must be str, not {type(key).__name__}")
        parts.append("{")
        for position, key in enumerate(sorted(obj, key=_utf16_order)):
            if position:
                parts.append(",")
            parts.append(_string(key))
            parts.append(":")
            _write(obj[key], parts)
        parts.append("}")
    else:
        raise TypeError(f"{type(obj).__name__} has no canonical JSON form")


def _utf16_order(key: str) -> bytes:
    # Big-endian UTF-16 compares bytewise exactly as the code units compare numerically.
    return key.encode("utf-16-be", "surrogatepass")


def _string(text: str) -> str:
    # json.dumps with ensure_ascii=False escapes exactly what JSON.stringify escapes: ", \, the
    # short forms \b \f \n \r \t, and other C0 controls as lowercase \u00xx. Validate the text is
    # encodable (no lone surrogates) so the error names the culprit rather than the final encode.
    text.encode("utf-8")
    return json.dumps(text, ensure_ascii=False)


def _ecmascript_number(value: float) -> str:
    """Number::toString (ECMA-262 §6.1.6.1.20) for a finite double."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"{value!r} has no JSON representation")
    if value == 0:
        return "0"  # also -0.0, as ECMAScript does
    sign = "-" if value < 0 else ""
    # repr() gives the shortest digit string that round-trips, which is what ECMAScript picks too.
    match = _REPR_FLOAT.match(repr(abs(value)))
    assert match is not None, repr(value)
    digits = match["int"] + (match["frac"] or "")
    exponent = int(match["exp"] or 0) + len(match["int"])  # value = 0.digits × 10**exponent
    stripped = digits.lstrip("0")
    exponent -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k, n = len(digits), exponent  # value = digits × 10**(n - k), as in the spec
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        exp = n - 1
        exp_text = ("+" if exp >= 0 else "-") + str(abs(exp))
        body = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + exp_text
    return sign + body
