"""What every API router shares: the error shape and strict request bodies derived from the
models, so a field is described once (on the model) and the API documents it from there."""

from datetime import datetime

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from ninja import Field, Schema
from pydantic import ConfigDict, create_model, field_validator


class ErrorOut(Schema):
    """Every error: messages per field; `__all__` holds those about the request as a whole."""

    errors: dict[str, list[str]] = Field(
        examples=[{"slug": ["This field is required."], "__all__": ["..."]}]
    )


# Every operation may answer these: a bad request, no or a bad login, a role too small, an
# unknown object, a conflict with the current state, a body over the limit, too many bad tokens.
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
          413: ErrorOut, 429: ErrorOut}


def field_rules(field) -> dict:
    """The JSON Schema keywords for what a model field and its validators enforce: lengths,
    choices, bounds, and the `json_schema` a validator carries (patterns, enums)."""
    rules: dict = {}
    if getattr(field, "max_length", None):
        rules["maxLength"] = field.max_length
    if isinstance(field, models.CharField) and not field.blank:
        rules["minLength"] = 1
    if field.choices:
        rules["enum"] = [value for value, _label in field.flatchoices]
    for validator in field.validators:
        if isinstance(validator, MinValueValidator):
            rules["minimum"] = max(rules.get("minimum", validator.limit_value),
                                   validator.limit_value)
        elif isinstance(validator, MaxValueValidator):
            rules["maximum"] = min(rules.get("maximum", validator.limit_value),
                                   validator.limit_value)
        extra = getattr(validator, "json_schema", None)
        rules.update(extra() if callable(extra) else extra or {})
    if "enum" in rules:
        # An enum says it all; a length, a pattern or a bound beside it only hides the choices.
        rules = {key: value for key, value in rules.items()
                 if key not in ("minLength", "maxLength", "pattern", "minimum", "maximum")}
    return rules


def model_field(model, name: str, mode: str = "optional"):
    """A schema field documented from the model field: help text and the rules of
    `field_rules`.

    mode is "required", "optional" (the model default applies) or "patch" (left unchanged).
    The rules are documented, not enforced here: the model's full_clean enforces them, with
    the same messages as the web UI."""
    field = model._meta.get_field(name)

    def document(schema: dict) -> None:
        schema.update(field_rules(field))
        if mode == "patch":
            schema.pop("default", None)

    kwargs: dict = {"description": str(field.help_text) or None, "json_schema_extra": document}
    if mode == "required":
        return Field(..., **kwargs)
    if mode == "patch":
        return Field(None, **kwargs)
    return Field(field.get_default(), **kwargs)


class StrictIn(Schema):
    """Request bodies: JSON types exactly, no unknown fields, no text a database cannot store."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def storable_text(cls, value):
        if isinstance(value, str):
            if "\x00" in value:
                raise ValueError("Null characters are not allowed.")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("The text is not valid Unicode.") from None
        return value


def _python_type(field) -> type:
    if isinstance(field, models.DateTimeField):
        return datetime
    if isinstance(field, models.BooleanField):
        return bool
    if isinstance(field, models.IntegerField):
        return int
    if isinstance(field, models.JSONField):
        return list[str] if field.default is list else dict
    return str


def _is_required(field) -> bool:
    return not field.blank and not field.has_default()


def model_schema(name: str, model, fields, *, mode: str, base: type = Schema,
                 doc: str = "") -> type:
    """A schema named `name` with `fields` of `model`, typed and documented from the model.

    mode "in": required where the model needs a value, else the model default applies;
    "patch": every field optional and left unchanged when absent; "out": plain fields."""
    definitions = {}
    for field_name in fields:
        field = model._meta.get_field(field_name)
        kind = _python_type(field)
        if mode == "out":
            definitions[field_name] = (kind, ...)
        elif mode == "patch":
            definitions[field_name] = (kind, model_field(model, field_name, "patch"))
        else:
            how = "required" if _is_required(field) else "optional"
            definitions[field_name] = (kind, model_field(model, field_name, how))
    schema = create_model(name, __base__=base, __doc__=doc or None, **definitions)
    schema.__module__ = base.__module__
    return schema
