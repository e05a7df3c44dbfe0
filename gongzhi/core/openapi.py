"""What makes the API's OpenAPI document true for every operation, applied once after the routers are
mounted: integers bounded to what the database stores (a larger one is a 400, not a 500), and the error
answers ({"code", "message"}) each operation can give declared beside its success."""

import datetime as dt
import re
import types
import typing
from typing import Annotated, Any, Union

from ninja import NinjaAPI, Schema
from pydantic import BaseModel, BeforeValidator, Field

# A 64-bit signed integer column holds these; ids, offsets and counts beyond them cannot exist.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
Int64 = Annotated[int, Field(ge=INT_MIN, le=INT_MAX)]

# Dates and times as the document says (format date / date-time): ISO 8601 text only. Pydantic alone
# would also take a number ("0" as 1970-01-01), which no generated client would send on purpose.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _iso_only(pattern: re.Pattern, what: str):
    def check(value):
        if isinstance(value, (str, bytes)) and not pattern.match(value if isinstance(value, str) else value.decode()):
            raise ValueError(f"give an ISO 8601 {what}")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise ValueError(f"give an ISO 8601 {what}")
        return value
    return BeforeValidator(check)


# No text the database stores may hold a NUL (PostgreSQL refuses it): said once for every string.
NO_NUL = "^[^\\x00]*$"
Text = Annotated[str, Field(pattern=NO_NUL)]

IsoDate = Annotated[dt.date, _iso_only(_ISO_DATE, "date (YYYY-MM-DD)")]
IsoDateTime = Annotated[dt.datetime, _iso_only(_ISO_DATETIME, "date-time")]


class ErrorOut(Schema):
    """Every refusal under /api/v1/: a stable code and a message in the caller's language."""

    code: str = Field(description="stable machine-readable reason, e.g. not_found, invalid, illegal_transition")
    message: str
    details: dict | None = Field(None, description="context of the refusal, e.g. the fields that failed")


ERROR_DESCRIPTIONS = {
    400: "Bad request: invalid input (code `invalid` or a specific reason)",
    401: "Not signed in: a bearer token or a signed-in session is required",
    403: "Forbidden: the caller may not do this",
    404: "Not found, or not visible to the caller",
    409: "Conflict: the object's state does not allow this",
    413: "Request body too large",
    429: "Too many requests: see the Retry-After header",
}
WRITE_METHODS = {"post", "put", "patch", "delete"}


def _bounded(annotation: Any, seen: set) -> Any:
    """`annotation` with every plain `int` in it bounded to Int64 (through unions, lists, dicts and
    nested models, which are rebuilt in place)."""
    if annotation is int:
        return Int64
    if annotation is str:
        return Text
    if annotation is dt.datetime:
        return IsoDateTime
    if annotation is dt.date:
        return IsoDate
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        bound_model(annotation, seen)
        return annotation
    origin = typing.get_origin(annotation)
    if origin is None:
        return annotation
    args = typing.get_args(annotation)
    if origin is Annotated:
        return Annotated[(_bounded(args[0], seen), *annotation.__metadata__)] if args[0] is not int else annotation
    new_args = tuple(_bounded(a, seen) for a in args)
    if new_args == args:
        return annotation
    if origin in (Union, types.UnionType):
        return Union[new_args]
    if origin is typing.Literal:
        return annotation
    try:
        return origin[new_args] if len(new_args) > 1 else origin[new_args[0]]
    except TypeError:
        return annotation


def bound_model(model: type[BaseModel], seen: set | None = None) -> None:
    """Bound the integer fields of `model` (and the models it nests) and rebuild its validator."""
    seen = set() if seen is None else seen
    if model in seen:
        return
    seen.add(model)
    changed = False
    for field in model.model_fields.values():
        if field.annotation is int:
            if not any(hasattr(m, "le") or hasattr(m, "lt") for m in field.metadata):
                field.metadata.append(Field(le=INT_MAX).metadata[0])
            if not any(hasattr(m, "ge") or hasattr(m, "gt") for m in field.metadata):
                field.metadata.append(Field(ge=INT_MIN).metadata[0])
            changed = True
            continue
        if field.annotation is str:
            if not any(getattr(m, "pattern", None) for m in field.metadata):
                field.metadata.append(Field(pattern=NO_NUL).metadata[0])
                changed = True
            continue
        if field.annotation in (dt.date, dt.datetime):
            field.metadata.append(_iso_only(*((_ISO_DATE, "date") if field.annotation is dt.date
                                              else (_ISO_DATETIME, "date-time"))))
            changed = True
            continue
        new = _bounded(field.annotation, seen)
        if new is not field.annotation:
            field.annotation, changed = new, True
        elif isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            changed = True  # a nested model was rebuilt: rebuild this one to pick it up
        else:
            changed = changed or any(isinstance(a, type) and issubclass(a, BaseModel)
                                     for a in typing.get_args(field.annotation))
    if changed:
        model.model_rebuild(force=True)


def bound_integers(api: NinjaAPI) -> None:
    """Bound every integer an operation takes (path, query, body, pagination) to Int64."""
    seen: set = set()
    for _, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in operation.models:
                    bound_model(model, seen)


def declare_errors(schema: dict) -> dict:
    """Add to each operation of an OpenAPI document the error answers it can give, all as ErrorOut:
    400 for any input, 401/403 when it needs a signed-in caller, 404 for anything it looks up,
    409 and 429 for writes."""
    _no_empty_files(schema)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorOut"] = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
    for path, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            if method not in WRITE_METHODS | {"get", "head"}:
                continue
            codes = {400}
            if operation.get("security"):
                codes |= {401, 403}
            if operation.get("parameters") or operation.get("requestBody") or "{" in path:
                codes.add(404)
            if method in WRITE_METHODS:
                codes |= {404, 409, 413, 429}
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                if code not in responses and str(code) not in responses:
                    responses[code] = {"description": ERROR_DESCRIPTIONS[code], **ref}
    return schema


def _no_empty_files(node) -> None:
    """A file upload is at least one byte (Django drops an empty file part, so it would not arrive)."""
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("format") == "binary":
            node.setdefault("minLength", 1)
        for value in node.values():
            _no_empty_files(value)
    elif isinstance(node, list):
        for value in node:
            _no_empty_files(value)


class DocumentedAPI(NinjaAPI):
    """A NinjaAPI whose OpenAPI document declares the error answers too (see declare_errors)."""

    def get_openapi_schema(self, *args, **kwargs):
        return declare_errors(super().get_openapi_schema(*args, **kwargs))


# Free text as core.text.clean_text accepts it, said in JSON Schema: no NUL or other control character
# (tab and line breaks aside), and at least one character that shows.
_CONTROL = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f"
_INVISIBLE = "\\s\\x00-\\x1f\\x7f-\\x9f\\u00ad\\u115f\\u1160\\u180e\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u206f" \
             "\\u2800\\u3164\\ufeff\\uffa0\\ufff0-\\uffff\\ue000-\\uf8ff"
VISIBLE_TEXT_PATTERN = f"^[^{_CONTROL}]*[^{_INVISIBLE}][^{_CONTROL}]*$"


def free_text(max_length: int, **kwargs) -> Any:
    """A required free-text field: something visible, at most `max_length` characters."""
    return Field(..., min_length=1, max_length=max_length, pattern=VISIBLE_TEXT_PATTERN, **kwargs)


def optional_text(max_length: int, default: str = "", **kwargs) -> Any:
    """An optional free-text field: empty, or text without control characters."""
    return Field(default, max_length=max_length, pattern=f"^[^{_CONTROL}]*$", **kwargs)
