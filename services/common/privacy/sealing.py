"""Sealing and opening the marked fields of a stored event's protobuf message, with the process's keyring.

A marked string field (``(chorus.privacy.v1.pii)``, see :mod:`.marks`) is stored as a sealed value::

    pii1:<key id>:<base64url(nonce ‖ AES-256-GCM ciphertext ‖ tag)>

- ``key id`` names the data key in the vault: for ``SUBJECT_IDENTIFIER`` the identifier's id (the keyed
  pseudonym of its normal form, or of the spelling given when it has none: ``Identifier.key``), for
  ``SUBJECT_AGGREGATE`` the event's aggregate id (a party's id; an identifier claim's id is its identifier's id),
  for ``SUBJECT_PERSON_ACTOR`` the identifier id of the person the interaction is by or to (:func:`person_actor`;
  the aggregate id when there is no actor);
- the nonce is 12 random bytes; the associated data is ``<field's full name>|<key id>``, so a sealed value
  cannot be moved to another field or passed off under another key;
- an empty field stays empty (nothing to hide, and it keeps "not given" readable).

Opening gives the text back, or :data:`ERASED` when the key is destroyed (or the bytes do not open under it):
never an exception, never garbage (:func:`open_value` opens one value, for a read model that keeps them sealed).
Without an installed keyring nothing is sealed: a marked field is stored in clear (one that begins with ``pii1:``
or ``pii0:`` gets ``pii0:`` in front, taken off when read, so no clear text passes for a sealed one), and a
sealed value opens as :data:`ERASED`: whoever holds no key sees no personal data.
"""

from __future__ import annotations

import binascii
import os
from collections.abc import Collection, Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from chorus.common.v1 import types_pb2
from services.common.contracts import enum_words
from services.common.identifiers import normal_key
from services.common.privacy.keyring import Keyring, installed
from services.common.privacy.marks import SUBJECT_IDENTIFIER, SUBJECT_PERSON_ACTOR, reachable_messages, subject_of

ERASED = "[erased]"
PREFIX = "pii1:"
ESCAPE = "pii0:"  #: marks a clear value stored without a keyring that would otherwise read as sealed (or escaped)
_IDENTIFIER_TYPE = enum_words(types_pb2.IdentifierType.DESCRIPTOR)
_Plan = tuple[tuple[tuple[FieldDescriptor, int], ...], tuple[FieldDescriptor, ...]]
_PLANS: dict[type, _Plan] = {}  #: by message class (a dict lookup cheaper than the descriptor's name)
_ACTORS: dict[type, tuple[bool, bool]] = {}  #: by event class: whether it has ``actors``, and ``direction``
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _plan(message: Message) -> _Plan:
    """The marked string fields of ``message``'s type, and its message fields that can lead to one."""
    plan = _PLANS.get(type(message))
    if plan is None:
        fields = message.DESCRIPTOR.fields
        plan = (
            tuple((f, subject_of(f)) for f in fields if subject_of(f) and f.type == FieldDescriptor.TYPE_STRING),
            tuple(
                f
                for f in fields
                if f.type == FieldDescriptor.TYPE_MESSAGE
                and not f.message_type.GetOptions().map_entry
                and _holds_marks(f.message_type)
            ),
        )
        _PLANS[type(message)] = plan
    return plan


def _holds_marks(descriptor: Descriptor) -> bool:
    """Whether a message of this type can hold a marked string field (itself or in a message it reaches)."""
    return any(
        subject_of(f) and f.type == FieldDescriptor.TYPE_STRING
        for reached in reachable_messages(descriptor)
        for f in reached.fields
    )


def identifier_key(message: Message, default_region: str | None) -> str:
    """The key id of an identifier-like message (``type``, ``namespace``, ``value``) in clear."""
    type_word = _IDENTIFIER_TYPE.word(message.type) if isinstance(message.type, int) else str(message.type)
    return normal_key(type_word, message.namespace, message.value, default_region)


def person_actor(direction: int, actors: int) -> int:
    """Which actor an interaction's personal text belongs to: the author (``0``) of an inbound one, the person
    answered (``1``) of an outbound one with several actors (``0`` is the company's side), else ``0``."""
    return 1 if direction == types_pb2.DIRECTION_OUTBOUND and actors > 1 else 0


def _person_actor_key(event: Message, aggregate_id: str, default_region: str | None) -> str:
    shape = _ACTORS.get(type(event))
    if shape is None:
        names = event.DESCRIPTOR.fields_by_name
        shape = _ACTORS[type(event)] = ("actors" in names, "direction" in names)
    has_actors, has_direction = shape
    if not has_actors or not len(event.actors):
        return aggregate_id
    direction = event.direction if has_direction else 0
    return identifier_key(event.actors[person_actor(direction, len(event.actors))], default_region)


def seal(event: Message, aggregate_id: str, keyring: Keyring | None = None) -> Message:
    """Seal every marked field of ``event`` in place (without a keyring only :func:`escaped`); returns it."""
    keyring = keyring or installed()
    if keyring is None:
        _walk(event, lambda _message, _field, text, _key_id: escaped(text), aggregate_id, "", None, prefixed_only=True)
        return event
    person = _person_actor_key(event, aggregate_id, keyring.default_region)
    _walk(
        event,
        lambda _message, field, text, key_id: _seal(keyring, field, text, key_id),
        aggregate_id,
        person,
        keyring.default_region,
    )
    return event


def seal_many(events: Sequence[tuple[Message, str]], keyring: Keyring | None = None) -> None:
    """:func:`seal` each ``(event, aggregate id)`` in place, the data keys of all of them made first in one vault
    call (:meth:`Keyring.keys_for_writing`): a save of many new data subjects waits for the vault once."""
    keyring = keyring or installed()
    if keyring is None:
        for event, aggregate_id in events:
            seal(event, aggregate_id, None)
        return
    sites: list[tuple[Message, FieldDescriptor, str, str]] = []

    def collect(message: Message, field: FieldDescriptor, text: str, key_id: str) -> str:
        sites.append((message, field, text, key_id))
        return text

    for event, aggregate_id in events:
        person = _person_actor_key(event, aggregate_id, keyring.default_region)
        _walk(event, collect, aggregate_id, person, keyring.default_region)
    keyring.keys_for_writing(key_id for _message, _field, _text, key_id in sites)
    for message, field, text, key_id in sites:
        setattr(message, field.name, _seal(keyring, field, text, key_id))


def open_sealed(event: Message, aggregate_id: str, keyring: Keyring | None = None) -> Message:  # noqa: ARG001
    """Open every sealed field of ``event`` in place (:data:`ERASED` where the key is gone); returns it.

    ``aggregate_id`` is not needed (each sealed value names its key): it keeps the call shaped like :func:`seal`."""
    open_sealed_many([event], keyring)
    return event


def open_sealed_many(
    events: Sequence[Message], keyring: Keyring | None = None, *, key_only: Collection[str] = ()
) -> None:
    """:func:`open_sealed` each of ``events`` in place, the data keys of all of them read first in one vault call
    (:meth:`Keyring.keys_for_reading`): a page of events under many subjects' keys waits for the vault once.

    The fields named in ``key_only`` (full names, for a reader that needs only which key sealed them) are not
    decrypted: one whose key is there stays sealed (:func:`sealed_key_id` reads its key id), one whose key is gone
    reads :data:`ERASED` as if it had been opened."""
    keyring = keyring or installed()
    sites: list[tuple[Message, FieldDescriptor, str, str]] = []
    for event in events:
        _sealed_sites(event, sites)
    if not sites:
        return
    keys = keyring.keys_for_reading(key_id for *_, key_id in sites) if keyring is not None else {}
    ciphers: dict[str, AESGCM] = {}  # of the keys this page decrypts with (most subjects' keys open one value)
    for message, field, text, key_id in sites:
        key = keys.get(key_id)
        if field.full_name in key_only:
            if key is None:
                setattr(message, field.name, ERASED)
            continue
        aead = None
        if key is not None:
            aead = ciphers.get(key_id)
            if aead is None:
                aead = ciphers[key_id] = AESGCM(key)
        setattr(message, field.name, _decrypt(aead, field, text, key_id))


_Marked = tuple[tuple[str, FieldDescriptor], ...]
#: Per message class, what opening reads: its marked string fields (name, descriptor), and its message fields that
#: can lead to one (name, repeated, and for a repeated field of messages with one marked field and no message field
#: that leads to another, like ``Identifier``, that field's name and descriptor: read in a loop of its own).
_OPENING: dict[type, tuple[_Marked, tuple[tuple[str, bool, tuple[str, FieldDescriptor] | None], ...]]] = {}


def _opening_plan(message: Message) -> tuple[_Marked, tuple[tuple[str, bool, tuple[str, FieldDescriptor] | None], ...]]:
    plan = _OPENING.get(type(message))
    if plan is None:
        marked, nested = _plan(message)
        inner = []
        for f in nested:
            leaf = None
            if f.is_repeated:
                item = message_factory.GetMessageClass(f.message_type)()
                item_marked, item_nested = _plan(item)
                if len(item_marked) == 1 and not item_nested:
                    leaf = (item_marked[0][0].name, item_marked[0][0])
            inner.append((f.name, f.is_repeated, leaf))
        plan = tuple((f.name, f) for f, _ in marked), tuple(inner)
        _OPENING[type(message)] = plan
    return plan


def _sealed_sites(message: Message, sites: list[tuple[Message, FieldDescriptor, str, str]]) -> None:
    """Add the sealed values of ``message`` (and of the messages in it) to ``sites`` with their key ids; take the
    escape off the clear values that carry it."""
    marked, nested = _OPENING.get(type(message)) or _opening_plan(message)
    for name, field in marked:
        _site(message, name, field, sites)
    for name, repeated, leaf in nested:
        if leaf is not None:
            leaf_name, leaf_field = leaf
            for item in getattr(message, name):
                _site(item, leaf_name, leaf_field, sites)
        elif repeated:
            for item in getattr(message, name):
                _sealed_sites(item, sites)
        elif message.HasField(name):
            _sealed_sites(getattr(message, name), sites)


def _site(
    message: Message, name: str, field: FieldDescriptor, sites: list[tuple[Message, FieldDescriptor, str, str]]
) -> None:
    """Add ``message``'s field ``name`` to ``sites`` when its value is sealed; take the escape off a clear value
    that carries it."""
    text = getattr(message, name)
    if text.startswith(PREFIX):
        sites.append((message, field, text, sealed_key_id(text)))
    elif text.startswith(ESCAPE):
        setattr(message, name, text[len(ESCAPE) :])


def _walk(
    message: Message, change: Any, aggregate_id: str, person: str, region: str | None, *, prefixed_only: bool = False
) -> None:
    marked, nested = _plan(message)
    if marked:
        own_key = ""
        for field, subject in marked:
            text = getattr(message, field.name)
            if not text or (prefixed_only and not text.startswith((PREFIX, ESCAPE))):
                continue
            if prefixed_only:
                key_id = ""
            elif subject == SUBJECT_IDENTIFIER:
                own_key = own_key or identifier_key(message, region)
                key_id = own_key
            elif subject == SUBJECT_PERSON_ACTOR:
                key_id = person
            else:
                key_id = aggregate_id
            changed = change(message, field, text, key_id)
            if changed is not text:  # a collector hands the text back as it is
                setattr(message, field.name, changed)
    for field in nested:
        value = getattr(message, field.name)
        if field.is_repeated:
            for item in value:
                _walk(item, change, aggregate_id, person, region, prefixed_only=prefixed_only)
        elif message.HasField(field.name):
            _walk(value, change, aggregate_id, person, region, prefixed_only=prefixed_only)


def _aad(field: FieldDescriptor, key_id: str) -> bytes:
    return f"{field.full_name}|{key_id}".encode()


def _seal(keyring: Keyring, field: FieldDescriptor, text: str, key_id: str) -> str:
    nonce = os.urandom(12)
    sealed = keyring.cipher_for_writing(key_id).encrypt(nonce, text.encode("utf-8"), _aad(field, key_id))
    body = binascii.b2a_base64(nonce + sealed, newline=False).translate(_TO_URLSAFE)  # as urlsafe_b64encode
    return f"{PREFIX}{key_id}:{body.decode('ascii')}"


def sealed_key_id(text: str) -> str:
    """The key id inside a sealed value ("" when ``text`` is not sealed)."""
    return text[len(PREFIX) :].partition(":")[0] if text.startswith(PREFIX) else ""


#: The data keys one read has looked up, ready to decrypt (None: destroyed), by key id (see :func:`open_value`).
OpenKeys = dict[str, AESGCM | None]


def open_value(
    field: FieldDescriptor, text: str, keyring: Keyring | None = None, *, keys: OpenKeys | None = None
) -> str:
    """One marked value of ``field`` as stored, opened: its text, :data:`ERASED` when its key is destroyed (or it
    does not open under it), or ``text`` itself when it is not sealed. For a read model that keeps values sealed
    and opens them when read; ``keys``, filled as it goes, spares the keyring (and for a destroyed key the vault)
    a second look-up of a key within one read."""
    if not text.startswith(PREFIX):
        return text.removeprefix(ESCAPE)
    return _open(keyring or installed(), field, text, keys)


def escaped(text: str) -> str:
    """``text`` as a marked field stores it in clear: a value that begins like a sealed or an escaped one gets
    :data:`ESCAPE` in front, so it reads back as written (:func:`open_value` takes it off)."""
    return ESCAPE + text if text.startswith((PREFIX, ESCAPE)) else text


def _open(keyring: Keyring | None, field: FieldDescriptor, text: str, keys: OpenKeys | None = None) -> str:
    key_id = sealed_key_id(text)
    if keyring is None:
        return ERASED
    if keys is not None and key_id in keys:
        aead = keys[key_id]
    else:
        try:
            aead = keyring.ciphers_for_reading([key_id])[key_id]
        except ValueError:  # a key id no vault can hold: not a value we sealed
            aead = None
        if keys is not None:
            keys[key_id] = aead
    return _decrypt(aead, field, text, key_id)


def _decrypt(aead: AESGCM | None, field: FieldDescriptor, text: str, key_id: str) -> str:
    if aead is None:
        return ERASED
    body = text[len(PREFIX) + len(key_id) + 1 :]
    try:
        raw = binascii.a2b_base64(body.encode("ascii").translate(_FROM_URLSAFE))  # as urlsafe_b64decode reads it
        return aead.decrypt(raw[:12], raw[12:], _aad(field, key_id)).decode("utf-8")
    except (InvalidTag, binascii.Error, ValueError, UnicodeError):
        return ERASED
