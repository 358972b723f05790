"""Request validation reads the rules written in the .proto files and reports every broken one by field path.

The messages are real generated code: ``chorus.bench.v1.EchoRequest`` carries one field per rule kind, and
``chorus.common.v1.Identifier`` carries the rules every service relies on.
"""

from __future__ import annotations

import importlib
import uuid
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from hypothesis import given
from hypothesis import strategies as st

from bench.validation import ten_field_request
from chorus.bench.v1 import echo_pb2
from chorus.common.v1 import types_pb2
from chorus.validate.v1 import rules_pb2
from services.common.errors import FieldViolation, InvalidArgument
from services.common.validation import InvalidRule, prepare, validate, violations


def valid_request(**changes) -> echo_pb2.EchoRequest:
    request = ten_field_request()
    for name, value in changes.items():
        if isinstance(value, list):
            del getattr(request, name)[:]
            getattr(request, name).extend(value)
        elif isinstance(value, dict):
            getattr(request, name).clear()
            getattr(request, name).update(value)
        elif hasattr(value, "DESCRIPTOR"):
            getattr(request, name).CopyFrom(value)
        else:
            setattr(request, name, value)
    return request


def fields(request) -> list[str]:
    return [violation.field for violation in violations(request)]


def test_a_request_that_keeps_every_rule_has_no_violations():
    assert violations(valid_request()) == []
    validate(valid_request())  # does not raise


def test_only_text_is_required_so_a_minimal_request_is_valid():
    assert violations(echo_pb2.EchoRequest(text="hi")) == []


def test_a_missing_required_string_is_reported_by_name():
    assert violations(valid_request(text="")) == [FieldViolation("text", "is required")]


def test_max_len_counts_characters_not_bytes():
    assert violations(valid_request(text="é" * 1000)) == []
    assert violations(valid_request(text="é" * 1001)) == [
        FieldViolation("text", "must be at most 1000 characters long")
    ]


def test_max_bytes_counts_utf8_bytes_of_a_string():
    assert fields(valid_request(routing=echo_pb2.EchoRouting(party_id=str(uuid.uuid4()), reason="a" * 140))) == []
    # 70 two-byte characters are 140 bytes; one more character passes 140
    assert fields(valid_request(routing=echo_pb2.EchoRouting(party_id=str(uuid.uuid4()), reason="é" * 70))) == []
    assert fields(valid_request(routing=echo_pb2.EchoRouting(party_id=str(uuid.uuid4()), reason="é" * 71))) == [
        "routing.reason"
    ]


def test_max_bytes_limits_a_bytes_field():
    assert fields(valid_request(payload=b"x" * 1048576)) == []
    assert violations(valid_request(payload=b"x" * 1048577)) == [
        FieldViolation("payload", "must be at most 1048576 bytes long")
    ]


def test_a_uuid_field_accepts_only_the_canonical_form_and_may_stay_empty():
    assert fields(valid_request(request_id="")) == []
    assert fields(valid_request(request_id=str(uuid.uuid4()).upper())) == []
    for bad in ("nope", uuid.uuid4().hex, "{" + str(uuid.uuid4()) + "}", str(uuid.uuid4()) + "\n"):
        assert violations(valid_request(request_id=bad)) == [
            FieldViolation("request_id", "must be a UUID (8-4-4-4-12 hexadecimal digits)")
        ], bad


def test_integer_bounds_are_inclusive():
    assert fields(valid_request(repeat=100)) == []
    assert violations(valid_request(repeat=101)) == [FieldViolation("repeat", "must be at most 100")]
    assert violations(valid_request(repeat=-1)) == [FieldViolation("repeat", "must be at least 0")]


def test_an_optional_float_is_checked_whenever_it_is_sent_even_at_zero():
    assert fields(valid_request(ratio=0.0)) == []
    assert fields(valid_request(ratio=1.0)) == []
    assert violations(valid_request(ratio=1.5)) == [FieldViolation("ratio", "must be at most 1")]
    assert violations(valid_request(ratio=-0.1)) == [FieldViolation("ratio", "must be at least 0")]
    assert violations(valid_request(ratio=float("nan"))) == [FieldViolation("ratio", "must be a number")]
    unset = valid_request()
    unset.ClearField("ratio")
    assert violations(unset) == []


def test_enum_defined_only_rejects_unknown_numbers_but_allows_unspecified_when_not_required():
    assert fields(valid_request(channel=types_pb2.CHANNEL_UNSPECIFIED)) == []
    assert violations(valid_request(channel=99)) == [
        FieldViolation("channel", "must be a value chorus.common.v1.Channel defines")
    ]


def test_nested_messages_in_repeated_fields_are_checked_with_indexed_paths():
    request = valid_request(
        identifiers=[
            types_pb2.Identifier(type=types_pb2.IDENTIFIER_TYPE_EMAIL, value="a@example.com"),
            types_pb2.Identifier(type=types_pb2.IDENTIFIER_TYPE_PHONE, value="+4915112345678"),
            types_pb2.Identifier(type=types_pb2.IDENTIFIER_TYPE_UNSPECIFIED, value=""),
        ]
    )
    assert violations(request) == [
        FieldViolation("identifiers[2].type", "is required"),
        FieldViolation("identifiers[2].value", "is required"),
    ]


def test_identifier_rules_apply_wherever_an_identifier_appears():
    too_long = types_pb2.Identifier(type=types_pb2.IDENTIFIER_TYPE_BLOG_URL, value="x" * 2049, namespace="n" * 201)
    routing = echo_pb2.EchoRouting(identifier=too_long)
    assert fields(valid_request(routing=routing)) == ["routing.identifier.value", "routing.identifier.namespace"]
    assert fields(types_pb2.Identifier(type=42, value="v")) == ["type"]


def test_repeated_item_rules_apply_to_each_item_and_item_counts_to_the_list():
    assert violations(valid_request(tags=["a", "good", "no-dash"])) == [
        FieldViolation("tags[0]", "must be at least 2 characters long"),
        FieldViolation("tags[2]", "must match the pattern [A-Za-z0-9]+"),
    ]
    assert violations(valid_request(tags=["ab"] * 6)) == [FieldViolation("tags", "must have at most 5 items")]
    assert fields(valid_request(identifiers=[types_pb2.Identifier(type=1, value="a@b.c")] * 11)) == ["identifiers"]


def test_map_rules_check_keys_values_and_size_with_quoted_keys():
    request = valid_request(labels={"Team": "care", "region": "x" * 65, 'say "hi"': "ok"})
    assert violations(request) == [
        FieldViolation('labels["Team"]', "key must match the pattern [a-z][a-z0-9_]*"),
        FieldViolation('labels["region"]', "must be at most 64 characters long"),
        FieldViolation('labels["say \\"hi\\""]', "key must match the pattern [a-z][a-z0-9_]*"),
    ]
    assert fields(valid_request(labels={f"k{i}": "v" for i in range(17)})) == ["labels"]


def test_a_required_oneof_is_checked_only_when_its_message_is_set():
    assert fields(valid_request(routing=echo_pb2.EchoRouting(reason="no target"))) == ["routing.target"]
    assert violations(valid_request(routing=echo_pb2.EchoRouting(reason="x")))[0].description == (
        "exactly one of party_id, identifier is required"
    )
    unrouted = valid_request()
    unrouted.ClearField("routing")
    assert violations(unrouted) == []


def test_a_oneof_member_with_presence_is_checked_even_when_empty():
    routing = echo_pb2.EchoRouting(party_id="")
    assert routing.WhichOneof("target") == "party_id"
    assert fields(valid_request(routing=routing)) == ["routing.party_id"]


def test_every_violation_is_reported_at_once():
    request = echo_pb2.EchoRequest(text="", request_id="x", repeat=500, tags=["!"], labels={"A": "b"})
    assert fields(request) == ["text", 'labels["A"]', "request_id", "repeat", "tags[0]", "tags[0]"]


def test_validate_raises_invalid_argument_with_all_violations_and_no_values():
    secret = "ada.lovelace@example.com"
    request = valid_request(text="", identifiers=[types_pb2.Identifier(type=99, value=secret)])
    with pytest.raises(InvalidArgument) as raised:
        validate(request)
    assert raised.value.violations == (
        FieldViolation("text", "is required"),
        FieldViolation("identifiers[0].type", "must be a value chorus.common.v1.IdentifierType defines"),
    )
    assert "text: is required" in str(raised.value)
    assert secret not in str(raised.value)


def test_recursive_message_types_are_compiled_without_looping():
    rules = rules_pb2.FieldRules(keys=rules_pb2.FieldRules(keys=rules_pb2.FieldRules(max_len=1)))
    assert violations(rules) == []


@given(st.text(max_size=1200))
def test_text_is_valid_exactly_when_it_has_1_to_1000_characters(text):
    expected = [] if 1 <= len(text) <= 1000 else ["text"]
    assert fields(echo_pb2.EchoRequest(text=text)) == expected


def _message_with_rule(name: str, field_type: int, **rule) -> type:
    """A message type in a private pool whose one field ``value`` carries the given rule."""
    pool = descriptor_pool.DescriptorPool()
    for file in (descriptor_pb2.DESCRIPTOR, rules_pb2.DESCRIPTOR):
        proto = descriptor_pb2.FileDescriptorProto()
        file.CopyToProto(proto)
        pool.Add(proto)
    file = descriptor_pb2.FileDescriptorProto(
        name=f"test/{name}.proto",
        package="test",
        syntax="proto3",
        dependency=["chorus/validate/v1/rules.proto"],
    )
    message = file.message_type.add(name=name)
    field = message.field.add(name="value", number=1, type=field_type, label=1)
    field.options.Extensions[rules_pb2.field].CopyFrom(rules_pb2.FieldRules(**rule))
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"test.{name}"))


def test_a_rule_that_does_not_fit_its_field_fails_loudly_instead_of_being_ignored():
    string_with_number_bound = _message_with_rule(
        "StringBound", descriptor_pb2.FieldDescriptorProto.TYPE_STRING, int_gte=1
    )
    with pytest.raises(InvalidRule, match="int_gte does not apply to a string field"):
        violations(string_with_number_bound(value="x"))
    bad_pattern = _message_with_rule("BadPattern", descriptor_pb2.FieldDescriptorProto.TYPE_STRING, pattern="(")
    with pytest.raises(InvalidRule, match="is not a regular expression"):
        prepare(bad_pattern)
    enum_rule_on_bool = _message_with_rule(
        "BoolEnum", descriptor_pb2.FieldDescriptorProto.TYPE_BOOL, enum_defined_only=True
    )
    with pytest.raises(InvalidRule, match="enum_defined_only does not apply to a bool field"):
        prepare(enum_rule_on_bool.DESCRIPTOR)


def test_prepare_compiles_every_request_type_of_a_service():
    prepare(echo_pb2.DESCRIPTOR.services_by_name["EchoService"], types_pb2.Identifier)
    assert violations(echo_pb2.EchoStreamRequest()) == []


def _all_contract_messages():
    protos = Path(__file__).resolve().parents[3] / "protos"
    for source in sorted(protos.glob("chorus/**/*.proto")):
        module = importlib.import_module(".".join(source.relative_to(protos).with_suffix("").parts) + "_pb2")
        pending = list(module.DESCRIPTOR.message_types_by_name.values())
        while pending:
            descriptor = pending.pop()
            pending.extend(descriptor.nested_types)
            if not descriptor.GetOptions().map_entry:
                yield descriptor


def test_every_rule_written_in_the_contracts_fits_its_field():
    descriptors = list(_all_contract_messages())
    assert any(descriptor.full_name == "chorus.bench.v1.EchoRequest" for descriptor in descriptors)
    prepare(*descriptors)  # raises InvalidRule naming the field otherwise


def test_every_timestamp_and_duration_is_checked_against_its_range_without_a_rule() -> None:
    from google.protobuf import duration_pb2, timestamp_pb2

    from chorus.touchpoints.v1 import touchpoint_service_pb2 as tp

    def fields(stamp: timestamp_pb2.Timestamp) -> list[str]:
        request = tp.ListTouchpointsRequest(thread_id="t", occurred_after=stamp)
        return [v.field for v in violations(request)]

    assert fields(timestamp_pb2.Timestamp(seconds=-62_135_596_800)) == []  # 0001-01-01T00:00:00Z
    assert fields(timestamp_pb2.Timestamp(seconds=253_402_300_799, nanos=999_999_999)) == []  # 9999-12-31
    for bad in (
        {"seconds": -62_135_596_801},
        {"seconds": 253_402_300_800},
        {"seconds": 2**62},
        {"nanos": -1},
        {"nanos": 1_000_000_000},
    ):
        assert fields(timestamp_pb2.Timestamp(**bad)) == ["occurred_after"], bad
    link = tp.ReplyLink(response_time=duration_pb2.Duration(seconds=-1, nanos=5))
    assert [v.field for v in violations(link)] == ["response_time"]
    assert violations(tp.ReplyLink(response_time=duration_pb2.Duration(seconds=-1, nanos=-5))) == []
