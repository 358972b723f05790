"""Request validation from the rules written as options in the .proto files (``chorus/validate/v1/rules.proto``).

We do not use protovalidate: the PyPI ``protovalidate`` 2.x checks messages of Buf's own ``protobuf-py`` runtime,
not ``google.protobuf`` ones, and its google-protobuf flavour needs ``buf/validate/validate.proto`` compiled from
the Buf Schema Registry, which this build cannot reach (only PyPI, npm and Debian). So the rules Chorus needs are
a small option set of its own, checked here.

Usage::

    validate(request)                      # raises InvalidArgument listing every violation
    for v in violations(request): ...      # FieldViolation(field="identifiers[2].value", description=...)

Every ``google.protobuf.Timestamp`` and ``Duration`` field is checked against the range its .proto defines,
without a rule: a value outside it is not a time. The rules of each message type are compiled once into a
list of small check functions and cached; validating a request walks only the fields that carry rules or may
contain messages that do. Descriptions never quote the offending value: requests carry personal data.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor, OneofDescriptor, ServiceDescriptor
from google.protobuf.message import Message

from chorus.validate.v1 import rules_pb2
from services.common.errors import ConfigurationError, FieldViolation, InvalidArgument

__all__ = ["InvalidRule", "prepare", "validate", "violations"]

Violations = list[FieldViolation]
# check(message, path_prefix, out): appends the violations of one field (or oneof) of ``message``.
Check = Callable[[Message, str, Violations], None]
# item check(value, path, out): checks one value (a scalar, list item or map value) found at ``path``.
ItemCheck = Callable[[Any, str, Violations], None]

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_INTEGER_TYPES = frozenset(
    {
        FieldDescriptor.CPPTYPE_INT32,
        FieldDescriptor.CPPTYPE_INT64,
        FieldDescriptor.CPPTYPE_UINT32,
        FieldDescriptor.CPPTYPE_UINT64,
    }
)
_FLOAT_TYPES = frozenset({FieldDescriptor.CPPTYPE_FLOAT, FieldDescriptor.CPPTYPE_DOUBLE})


class InvalidRule(ConfigurationError):
    """A rule in a .proto file does not fit the field it is written on (a bug in the contract, not the request)."""


def violations(message: Message) -> list[FieldViolation]:
    """Every rule ``message`` breaks, with dotted field paths (``routing.identifier.value``, ``tags[1]``)."""
    out: Violations = []
    for check in _compiled(message.DESCRIPTOR):
        check(message, "", out)
    return out


def validate(message: Message) -> None:
    """Raise ``InvalidArgument`` listing every rule ``message`` breaks; return quietly when it breaks none."""
    found = violations(message)
    if found:
        summary = "; ".join(f"{v.field}: {v.description}" for v in found)
        raise InvalidArgument(f"invalid {message.DESCRIPTOR.name}: {summary}", found)


def prepare(*types: type[Message] | Descriptor | ServiceDescriptor) -> None:
    """Compile the rules of message types (or of every request type of a service) now, not on first use.

    A server calls this at start-up so a rule that does not fit its field (``InvalidRule``) stops the
    deployment instead of failing the first request: ``prepare(identity_pb2.DESCRIPTOR.services_by_name[...])``.
    """
    for item in types:
        if isinstance(item, ServiceDescriptor):
            for method in item.methods:
                _compiled(method.input_type)
        elif isinstance(item, Descriptor):
            _compiled(item)
        else:
            _compiled(item.DESCRIPTOR)


# ---------------------------------------------------------------------------------------------- compilation

# keyed by the descriptor itself: two descriptor pools may hold different types of the same name
_cache: dict[Descriptor, tuple[Check, ...]] = {}
_in_progress: set[Descriptor] = set()
_compiling = threading.RLock()  # taken only on a cache miss; re-entered while compiling nested types


def _compiled(descriptor: Descriptor) -> tuple[Check, ...]:
    checks = _cache.get(descriptor)
    if checks is None:
        with _compiling:
            checks = _cache.get(descriptor)
            if checks is None:
                checks = _compile(descriptor)
                _cache[descriptor] = checks
    return checks


def _compile(descriptor: Descriptor) -> tuple[Check, ...]:
    well_known = _WELL_KNOWN.get(descriptor.full_name)
    if well_known is not None:
        return (well_known,)
    _in_progress.add(descriptor)
    try:
        checks: list[Check] = []
        for oneof in descriptor.oneofs:
            check = _compile_oneof(oneof)
            if check is not None:
                checks.append(check)
        for field in descriptor.fields:
            check = _compile_field(field)
            if check is not None:
                checks.append(check)
        return tuple(checks)
    finally:
        _in_progress.discard(descriptor)


# The ranges google/protobuf/timestamp.proto and duration.proto define: a value outside them is no time at all
# (the Python runtime cannot even turn it into a datetime), so every such field is checked without a rule.
_MIN_TIMESTAMP_SECONDS = -62_135_596_800  # 0001-01-01T00:00:00Z
_MAX_TIMESTAMP_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z
_MAX_DURATION_SECONDS = 315_576_000_000  # about 10,000 years
_MAX_NANOS = 999_999_999
_TIMESTAMP_RANGE = "must be a time from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z (nanos 0 to 999999999)"
_DURATION_RANGE = (
    f"must be a duration of at most {_MAX_DURATION_SECONDS} seconds either way, with nanos of the same sign "
    f"and at most {_MAX_NANOS}"
)


def _check_timestamp(message: Message, prefix: str, out: Violations) -> None:
    seconds, nanos = message.seconds, message.nanos  # type: ignore[attr-defined]
    if not (_MIN_TIMESTAMP_SECONDS <= seconds <= _MAX_TIMESTAMP_SECONDS and 0 <= nanos <= _MAX_NANOS):
        out.append(FieldViolation(prefix.removesuffix("."), _TIMESTAMP_RANGE))


def _check_duration(message: Message, prefix: str, out: Violations) -> None:
    seconds, nanos = message.seconds, message.nanos  # type: ignore[attr-defined]
    same_sign = (seconds >= 0 and nanos >= 0) or (seconds <= 0 and nanos <= 0)
    if not (abs(seconds) <= _MAX_DURATION_SECONDS and abs(nanos) <= _MAX_NANOS and same_sign):
        out.append(FieldViolation(prefix.removesuffix("."), _DURATION_RANGE))


_WELL_KNOWN: dict[str, Check] = {
    "google.protobuf.Timestamp": _check_timestamp,
    "google.protobuf.Duration": _check_duration,
}


def _may_need_checks(descriptor: Descriptor) -> bool:
    """Whether messages of this type (or anything inside them) carry rules; recursive types count as yes."""
    if descriptor in _in_progress:
        return True
    return bool(_compiled(descriptor))


def _rules_of(field: FieldDescriptor) -> rules_pb2.FieldRules | None:
    options = field.GetOptions()
    if options.HasExtension(rules_pb2.field):
        return options.Extensions[rules_pb2.field]
    return None


def _compile_oneof(oneof: OneofDescriptor) -> Check | None:
    options = oneof.GetOptions()
    if not options.HasExtension(rules_pb2.oneof) or not options.Extensions[rules_pb2.oneof].required:
        return None
    name = oneof.name
    members = ", ".join(field.name for field in oneof.fields)
    description = f"exactly one of {members} is required"

    def check_oneof(message: Message, prefix: str, out: Violations) -> None:
        if message.WhichOneof(name) is None:
            out.append(FieldViolation(prefix + name, description))

    return check_oneof


def _compile_field(field: FieldDescriptor) -> Check | None:
    rules = _rules_of(field)
    name = field.name
    if _is_map(field):
        return _compile_map(field, rules)
    if field.is_repeated:
        return _compile_repeated(field, rules)
    if field.cpp_type == FieldDescriptor.CPPTYPE_MESSAGE:
        return _compile_message_field(field, rules)
    if rules is None:
        return None
    required = rules.required
    item = _compile_item(field, rules, f"field {field.full_name}")
    if field.has_presence:  # optional scalars and oneof members: checked whenever set

        def check_present(message: Message, prefix: str, out: Violations) -> None:
            if message.HasField(name):
                if item is not None:
                    item(getattr(message, name), prefix + name, out)
            elif required:
                out.append(FieldViolation(prefix + name, "is required"))

        return check_present

    if item is None and not required:
        return None

    def check_implicit(message: Message, prefix: str, out: Violations) -> None:
        value = getattr(message, name)
        if not value:  # the default value: proto3 cannot tell it from "not sent"
            if required:
                out.append(FieldViolation(prefix + name, "is required"))
        elif item is not None:
            item(value, prefix + name, out)

    return check_implicit


def _compile_message_field(field: FieldDescriptor, rules: rules_pb2.FieldRules | None) -> Check | None:
    if rules is not None:
        _reject_item_rules(field, rules, allowed=("required",))
    required = rules is not None and rules.required
    nested = field.message_type
    recurse = _may_need_checks(nested)
    if not required and not recurse:
        return None
    name = field.name

    def check_message(message: Message, prefix: str, out: Violations) -> None:
        if message.HasField(name):
            if recurse:
                path = prefix + name + "."
                for check in _compiled(nested):
                    check(getattr(message, name), path, out)
        elif required:
            out.append(FieldViolation(prefix + name, "is required"))

    return check_message


def _compile_repeated(field: FieldDescriptor, rules: rules_pb2.FieldRules | None) -> Check | None:
    name = field.name
    size = _compile_size(rules)
    if field.cpp_type == FieldDescriptor.CPPTYPE_MESSAGE:
        if rules is not None:
            _reject_item_rules(field, rules, allowed=("required", "max_items", "items_checked_apart"))
        nested = field.message_type
        apart = rules is not None and rules.items_checked_apart
        item = _compile_nested(nested) if not apart and _may_need_checks(nested) else None
    else:
        if rules is not None and rules.items_checked_apart:
            raise InvalidRule(f"field {field.full_name}: rule items_checked_apart applies to repeated messages only")
        item = None if rules is None else _compile_item(field, rules, f"field {field.full_name}")
    if size is None and item is None:
        return None

    def check_repeated(message: Message, prefix: str, out: Violations) -> None:
        values = getattr(message, name)
        path = prefix + name
        if size is not None:
            size(len(values), path, out)
        if item is not None:
            for index, value in enumerate(values):
                item(value, f"{path}[{index}]", out)

    return check_repeated


def _compile_map(field: FieldDescriptor, rules: rules_pb2.FieldRules | None) -> Check | None:
    name = field.name
    key_field = field.message_type.fields_by_name["key"]
    value_field = field.message_type.fields_by_name["value"]
    size = _compile_size(rules)
    key_item = None
    if rules is not None and rules.HasField("keys"):
        key_item = _compile_item(key_field, rules.keys, f"keys of field {field.full_name}")
    if value_field.cpp_type == FieldDescriptor.CPPTYPE_MESSAGE:
        if rules is not None:
            _reject_item_rules(field, rules, allowed=("required", "max_items", "keys"))
        nested = value_field.message_type
        value_item = _compile_nested(nested) if _may_need_checks(nested) else None
    else:
        value_item = None if rules is None else _compile_item(value_field, rules, f"values of field {field.full_name}")
    if size is None and key_item is None and value_item is None:
        return None
    quote = json.dumps if key_field.cpp_type == FieldDescriptor.CPPTYPE_STRING else str

    def check_map(message: Message, prefix: str, out: Violations) -> None:
        entries = getattr(message, name)
        path = prefix + name
        if size is not None:
            size(len(entries), path, out)
        if key_item is None and value_item is None:
            return
        for key in sorted(entries):  # deterministic order of violations
            entry_path = f"{path}[{quote(key)}]"
            if key_item is not None:
                first = len(out)
                key_item(key, entry_path, out)
                for index in range(first, len(out)):  # say that the key, not the value, is wrong
                    out[index] = FieldViolation(entry_path, "key " + out[index].description)
            if value_item is not None:
                value_item(entries[key], entry_path, out)

    return check_map


def _compile_nested(nested: Descriptor) -> ItemCheck:
    def check_nested(value: Message, path: str, out: Violations) -> None:
        path += "."
        for check in _compiled(nested):
            check(value, path, out)

    return check_nested


def _compile_size(rules: rules_pb2.FieldRules | None) -> ItemCheck | None:
    """Rules on the number of items of a repeated field or map: required, max_items."""
    if rules is None:
        return None
    required, high = rules.required, rules.max_items
    if not (required or high):
        return None

    def check_size(count: int, path: str, out: Violations) -> None:
        if count == 0 and required:
            out.append(FieldViolation(path, "is required"))
        elif high and count > high:
            out.append(FieldViolation(path, f"must have at most {high} items"))

    return check_size


def _compile_item(field: FieldDescriptor, rules: rules_pb2.FieldRules, where: str) -> ItemCheck | None:
    """The rules on one non-default scalar value (a field's value, a list item, a map key or value)."""
    cpp_type = field.cpp_type
    if cpp_type == FieldDescriptor.CPPTYPE_STRING:
        if field.type == FieldDescriptor.TYPE_BYTES:
            _reject(rules, where, ("pattern", "uuid"), "a bytes field")
            return _chain(_compile_bytes(rules))
        return _chain(_compile_string(rules, where))
    for types, prefix, kind in _NUMBER_KINDS:
        if cpp_type in types:
            bounds = (f"{prefix}_gte", f"{prefix}_lte")
            others = tuple(rule for rule in _NUMBER_RULES if rule not in bounds)
            _reject(rules, where, (*_STRING_RULES, *others, "enum_defined_only"), kind)
            return _chain([_compile_bound(*(getattr(rules, b) if rules.HasField(b) else None for b in bounds))])
    if cpp_type == FieldDescriptor.CPPTYPE_ENUM:
        _reject(rules, where, _STRING_RULES + _NUMBER_RULES, "an enum field")
        return _chain([_compile_enum(field) if rules.enum_defined_only else None])
    _reject(rules, where, _STRING_RULES + _NUMBER_RULES + ("enum_defined_only",), "a bool field")
    return None


_STRING_RULES = ("min_len", "max_len", "max_bytes", "pattern", "uuid")
_NUMBER_RULES = ("int_gte", "int_lte", "float_gte", "float_lte")
#: the number fields: their C++ types, the prefix of their bound rules, and what the field is called
_NUMBER_KINDS = ((_INTEGER_TYPES, "int", "an integer field"), (_FLOAT_TYPES, "float", "a float field"))


def _compile_string(rules: rules_pb2.FieldRules, where: str) -> list[ItemCheck | None]:
    _reject(rules, where, _NUMBER_RULES + ("enum_defined_only",), "a string field")
    checks: list[ItemCheck | None] = []
    low, high, max_bytes = rules.min_len, rules.max_len, rules.max_bytes
    if low or high:

        def check_length(value: str, path: str, out: Violations) -> None:
            length = len(value)
            if length < low:
                out.append(FieldViolation(path, f"must be at least {low} characters long"))
            elif high and length > high:
                out.append(FieldViolation(path, f"must be at most {high} characters long"))

        checks.append(check_length)
    if max_bytes:

        def check_bytes(value: str, path: str, out: Violations) -> None:
            # a character takes at most 4 bytes in UTF-8: skip the encoding when it cannot matter
            if len(value) * 4 > max_bytes and len(value.encode("utf-8")) > max_bytes:
                out.append(FieldViolation(path, f"must be at most {max_bytes} bytes long in UTF-8"))

        checks.append(check_bytes)
    if rules.pattern:
        try:
            matcher = re.compile(rules.pattern).fullmatch
        except re.error as error:
            raise InvalidRule(f"{where}: pattern {rules.pattern!r} is not a regular expression: {error}") from None
        description = f"must match the pattern {rules.pattern}"

        def check_pattern(value: str, path: str, out: Violations) -> None:
            if matcher(value) is None:
                out.append(FieldViolation(path, description))

        checks.append(check_pattern)
    if rules.uuid:
        is_uuid = _UUID.fullmatch

        def check_uuid(value: str, path: str, out: Violations) -> None:
            if is_uuid(value) is None:
                out.append(FieldViolation(path, "must be a UUID (8-4-4-4-12 hexadecimal digits)"))

        checks.append(check_uuid)
    return checks


def _compile_bytes(rules: rules_pb2.FieldRules) -> list[ItemCheck | None]:
    low = rules.min_len
    high = min(limit for limit in (rules.max_len, rules.max_bytes, 2**32) if limit)
    if not low and high == 2**32:
        return []

    def check_size(value: bytes, path: str, out: Violations) -> None:
        if len(value) < low:
            out.append(FieldViolation(path, f"must be at least {low} bytes long"))
        elif len(value) > high:
            out.append(FieldViolation(path, f"must be at most {high} bytes long"))

    return [check_size]


def _compile_bound(low: float | None, high: float | None) -> ItemCheck | None:
    if low is None and high is None:
        return None

    def check_bound(value: float, path: str, out: Violations) -> None:
        if isinstance(value, float) and math.isnan(value):
            out.append(FieldViolation(path, "must be a number"))
        elif low is not None and value < low:
            out.append(FieldViolation(path, f"must be at least {_number(low)}"))
        elif high is not None and value > high:
            out.append(FieldViolation(path, f"must be at most {_number(high)}"))

    return check_bound


def _compile_enum(field: FieldDescriptor) -> ItemCheck:
    defined = frozenset(field.enum_type.values_by_number)
    description = f"must be a value {field.enum_type.full_name} defines"

    def check_enum(value: int, path: str, out: Violations) -> None:
        if value not in defined:
            out.append(FieldViolation(path, description))

    return check_enum


def _chain(checks: list[ItemCheck | None]) -> ItemCheck | None:
    present = [check for check in checks if check is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]

    def check_all(value: Any, path: str, out: Violations) -> None:
        for check in present:
            check(value, path, out)

    return check_all


def _reject(rules: rules_pb2.FieldRules, where: str, names: tuple[str, ...], kind: str) -> None:
    """Fail loudly when a .proto puts a rule on a field it cannot apply to (instead of ignoring it)."""
    for name in names:
        if rules.HasField(name) if name in _PRESENCE_RULES else getattr(rules, name):
            raise InvalidRule(f"{where}: rule {name} does not apply to {kind}")


def _reject_item_rules(field: FieldDescriptor, rules: rules_pb2.FieldRules, allowed: tuple[str, ...]) -> None:
    for descriptor, _value in rules.ListFields():
        if descriptor.name not in allowed:
            raise InvalidRule(f"field {field.full_name}: rule {descriptor.name} does not apply to a message field")


_PRESENCE_RULES = frozenset({"int_gte", "int_lte", "float_gte", "float_lte", "keys"})


def _is_map(field: FieldDescriptor) -> bool:
    return (
        field.is_repeated
        and field.cpp_type == FieldDescriptor.CPPTYPE_MESSAGE
        and field.message_type.GetOptions().map_entry
    )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
