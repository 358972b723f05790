"""The event store's errors: one root, the JetStream error-code table, and store -> application errors."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError

from services.common.errors import Conflict, Unavailable
from services.common.eventstore.errors import (
    ERROR_CODES,
    BatchWrongLastSequenceError,
    CalledOnLoopThreadError,
    EventStoreError,
    JetStreamApiError,
    NatsUnreachableError,
    RequestTimeoutError,
    StreamNameInUseError,
    WrongLastSequenceError,
    api_error,
    store_errors,
)


def test_a_jetstream_error_code_becomes_the_error_class_the_table_names() -> None:
    error = api_error(10071, "wrong last sequence: 4")
    assert type(error) is WrongLastSequenceError
    assert (error.code, error.description) == (10071, "wrong last sequence: 4")
    assert isinstance(api_error(10164, "batch"), WrongLastSequenceError)  # a batch's refusal is the same conflict
    assert type(api_error(10164, "batch")) is BatchWrongLastSequenceError
    assert type(api_error(10058, "in use")) is StreamNameInUseError


def test_an_unknown_code_is_a_generic_api_error_that_keeps_its_code() -> None:
    error = api_error(12345, "something new")
    assert type(error) is JetStreamApiError
    assert error.code == 12345
    assert "12345" in str(error)


def test_every_class_in_the_table_has_its_own_code_and_one_root() -> None:
    assert all(cls.code == code for code, cls in ERROR_CODES.items())
    assert len(ERROR_CODES) == len(set(ERROR_CODES.values()))
    for cls in (*ERROR_CODES.values(), NatsUnreachableError, RequestTimeoutError, CalledOnLoopThreadError):
        assert issubclass(cls, EventStoreError)


def test_store_errors_turn_an_unreachable_store_into_unavailable_and_a_lost_race_into_conflict() -> None:
    for error in (OperationalError("down"), InterfaceError("closed")):
        with pytest.raises(Unavailable), store_errors():
            raise error
    with pytest.raises(Conflict, match="retry"), store_errors(conflict="someone else wrote first; retry"):
        raise IntegrityError("taken")
    with pytest.raises(IntegrityError), store_errors():  # no conflict text: the caller handles the race itself
        raise IntegrityError("taken")
