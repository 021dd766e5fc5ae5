"""Typed field readers for the document reader: each reads one field, checks
its JSON type and range, and records an issue with the field's path instead
of raising."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from workflows.domain.issues import IssueCode, ValidationIssue
from workflows.domain.types import ANY, DataType, DataTypeError

Path = tuple[str | int, ...]
MAX_JSON_DEPTH = 64
MAX_READER_WARNINGS = 1_000

MISSING = object()


def type_name(value: object) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


def is_json_value(value: object, depth: int = 0) -> bool:
    """Whether ``value`` is plain JSON data (bounded depth, so it cannot recurse forever)."""
    if depth > MAX_JSON_DEPTH:
        return False
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(is_json_value(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(
            isinstance(key, str) and is_json_value(item, depth + 1) for key, item in value.items()
        )
    return False


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def format_path(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


class FieldReader:
    """Collects issues while reading typed fields."""

    def __init__(self) -> None:
        self.errors: list[ValidationIssue] = []
        self.warnings: list[ValidationIssue] = []

    # -- issue helpers ----------------------------------------------------------

    def _error(self, code: IssueCode, message: str, path: Path, **where: Any) -> None:
        self.errors.append(ValidationIssue(code=code, message=message, path=path, **where))

    def _wrong_type(self, path: Path, expected: str, value: object, **where: Any) -> None:
        location = format_path(path)
        self._error(
            IssueCode.INVALID_DOCUMENT,
            f"{location} must be {expected}, not {type_name(value)}; correct its value.",
            path,
            expected=expected,
            found=type_name(value),
            **where,
        )

    def _unknown_fields(
        self, mapping: Mapping[Any, Any], allowed: frozenset[str], path: Path, **where: Any
    ) -> None:
        for key in mapping:
            if key not in allowed:
                if len(self.warnings) >= MAX_READER_WARNINGS:
                    return  # a document with a million stray keys must not cost a million issues
                self.warnings.append(
                    ValidationIssue(
                        code=IssueCode.UNKNOWN_FIELD,
                        message=(
                            f"Field {key!r} at {format_path(path) or 'the workflow'} is not "
                            f"part of the format and is ignored; remove it or move it to "
                            f"metadata.custom."
                        ),
                        path=(*path, str(key)),
                        **where,
                    )
                )

    # -- typed field readers ------------------------------------------------------

    def _field(self, mapping: Mapping[Any, Any], key: str) -> object:
        return mapping.get(key, MISSING)

    def _string(
        self,
        mapping: Mapping[Any, Any],
        key: str,
        path: Path,
        default: str | None = "",
        *,
        nullable: bool = False,
        required: bool = False,
        **where: Any,
    ) -> str | None:
        value = self._field(mapping, key)
        if value is MISSING or (value is None and nullable):
            if required:
                self._error(
                    IssueCode.INVALID_DOCUMENT,
                    f"{format_path((*path, key))} is required; add it as a string.",
                    (*path, key),
                    **where,
                )
            return default if value is MISSING else None
        if not isinstance(value, str):
            self._wrong_type(
                (*path, key), "a string" + (" or null" if nullable else ""), value, **where
            )
            return default
        if required and not value:
            self._error(
                IssueCode.INVALID_DOCUMENT,
                f"{format_path((*path, key))} must not be empty.",
                (*path, key),
                **where,
            )
        return value

    def _boolean(
        self, mapping: Mapping[Any, Any], key: str, path: Path, default: bool, **where: Any
    ) -> bool:
        value = self._field(mapping, key)
        if value is MISSING:
            return default
        if not isinstance(value, bool):
            self._wrong_type((*path, key), "true or false", value, **where)
            return default
        return value

    def _number(
        self,
        mapping: Mapping[Any, Any],
        key: str,
        path: Path,
        default: float | None,
        *,
        integer: bool = False,
        minimum: float | None = None,
        exclusive_minimum: float | None = None,
        nullable: bool = True,
        **where: Any,
    ) -> Any:
        value = self._field(mapping, key)
        if value is MISSING or (value is None and nullable):
            return default if value is MISSING else None
        expected = "an integer" if integer else "a number"
        allowed_types: tuple[type, ...] = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, allowed_types):
            self._wrong_type((*path, key), expected, value, **where)
            return default
        if isinstance(value, float) and not math.isfinite(value):
            self._wrong_type((*path, key), "a finite number", value, **where)
            return default
        number: float = value  # type: ignore[assignment]  # checked just above
        if (minimum is not None and number < minimum) or (
            exclusive_minimum is not None and number <= exclusive_minimum
        ):
            bound = f"at least {minimum}" if minimum is not None else f"above {exclusive_minimum}"
            self._error(
                IssueCode.INVALID_DOCUMENT,
                f"{format_path((*path, key))} must be {bound}, not {value}.",
                (*path, key),
                expected=bound,
                found=str(value),
                **where,
            )
            return default
        return value

    def _json(
        self, mapping: Mapping[Any, Any], key: str, path: Path, default: Any, **where: Any
    ) -> Any:
        value = self._field(mapping, key)
        if value is MISSING:
            return default
        if not is_json_value(value):
            self._wrong_type((*path, key), "plain JSON data", value, **where)
            return default
        return value

    def _object(
        self,
        mapping: Mapping[Any, Any],
        key: str,
        path: Path,
        *,
        nullable: bool = True,
        **where: Any,
    ) -> dict[str, Any] | None:
        value = self._field(mapping, key)
        if value is MISSING or (value is None and nullable):
            return None
        if not isinstance(value, dict):
            self._wrong_type((*path, key), "an object", value, **where)
            return None
        return value

    def _json_object(
        self, mapping: Mapping[Any, Any], key: str, path: Path, **where: Any
    ) -> dict[str, Any]:
        value = self._object(mapping, key, path, **where)
        if value is None:
            return {}
        if not is_json_value(value):
            self._wrong_type((*path, key), "an object of plain JSON data", value, **where)
            return {}
        return dict(value)

    def _string_list(
        self, mapping: Mapping[Any, Any], key: str, path: Path, **where: Any
    ) -> list[str]:
        value = self._field(mapping, key)
        if value is MISSING or value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self._wrong_type((*path, key), "a list of strings", value, **where)
            return []
        return list(value)

    def _data_type(
        self, mapping: Mapping[Any, Any], key: str, path: Path, **where: Any
    ) -> DataType:
        value = self._field(mapping, key)
        if value is MISSING or value is None:
            return ANY
        try:
            return DataType.parse(value)  # type: ignore[arg-type]
        except DataTypeError as error:
            self._error(
                IssueCode.INVALID_DATA_TYPE,
                f"{format_path((*path, key))}: {error}.",
                (*path, key),
                found=value if isinstance(value, str) else type_name(value),
                **where,
            )
            return ANY

    # -- workflow -------------------------------------------------------------------
