"""The event store: an ``eventsourcing`` persistence module on NATS JetStream, and protobuf-stored events.

Select it with ``PERSISTENCE_MODULE=services.common.eventstore.jetstream`` and ``NATS_URL``. Settings, read
through the application's environment (so ``IDENTITY_NATS_URL`` overrides ``NATS_URL`` for an app named Identity):

==============================  ==========  ==============================================================
variable                        default     meaning
==============================  ==========  ==============================================================
``NATS_URL``                    (required)  where the nats-server (>= 2.12, JetStream) listens
``NATS_STREAM_REPLICAS``        ``1``       stream replicas: 1 on a laptop, 3 in a cluster
``NATS_DUPLICATE_WINDOW``       ``120``     seconds JetStream remembers ``Nats-Msg-Id`` for de-duplication
``NATS_REQUEST_TIMEOUT``        ``5``       seconds to wait for a publish acknowledgement or a read
``NATS_NAMESPACE``              ``chorus``  first subject token and stream-name prefix (isolates
                                            deployments/tests)
``NATS_CONNECT_TIMEOUT``        ``5``       seconds to wait for the first connection before giving up
``NATS_PUBLISH_CONNECTIONS``    ``16``      most blocking connections publishing saves from the saving
                                            threads (:mod:`.blocking`); 0: every save goes through the
                                            loop
``CREATE_TABLE``                ``y``       create the stream when missing (else it must exist)
==============================  ==========  ==============================================================

How the library's model maps onto JetStream (one stream per application, ``CHORUS_<APP>``):

- the events one save records for one aggregate are ONE message on the aggregate's subject
  ``chorus.<app>.e.<originator>``: a single event is stored as itself (payload = its state, ``Chorus-Topic`` =
  its topic), several as a ``chorus.eventstore.v1.Commit`` envelope (``protos/chorus/eventstore/v1``) holding
  each event's topic, version and state. ``Chorus-Version`` is the version of the message's last event. One
  literal subject per aggregate lets the server's per-subject index find an aggregate's events without scanning
  the stream, however long it grows. :func:`decode_message` reads both forms.
- notification ids number events: the ``i``-th event (from 0) of the message at stream sequence ``s`` has id
  ``s * 1000 + i`` (:data:`IDS_PER_MESSAGE`; a message holds at most 1000 events). Ids are unique and strictly
  increasing in stream order, but not contiguous: the stream numbers messages, and numbering events without
  gaps across concurrent writers would need the stream to reserve sequences (it cannot) or every writer to
  serialise on the stream's last sequence. ``select_notifications(start=n)`` reads from the message
  ``n // 1000`` and skips the ids before ``n`` in it; ``max_notification_id`` is the id of the last event of the
  newest event message; a tracking position is any such id (a view that applied id ``n`` resumes at the message
  holding ``n + 1``); ``subscribe(gt=n)`` starts its consumer at sequence ``n // 1000`` and drops ids ``<= n``.
  The library's recorder suites run with ``EXPECT_CONTIGUOUS_NOTIFICATION_IDS = False``, the setting it provides
  for such recorders (its ``test_insert_select`` compares ids with 1, 2, 3 regardless, so our conformance module
  restates it with the ids the recorder returned).
- an aggregate's events too large together for one message (the server's ``max_payload``) are stored as several
  consecutive messages on its subject, in one atomic batch; one event larger than that is a ``DataError``.
- optimistic concurrency: each aggregate's message carries ``Nats-Expected-Last-Subject-Sequence`` = the stream
  sequence of that aggregate's last message (0 for a new aggregate), so of two writers of the same version
  exactly one is stored and the other gets ``IntegrityError`` — for ever, not only within the duplicate window.
  The recorder remembers the last (version, sequence) it read or wrote per aggregate, and looks it up (one
  direct get on the literal subject) only when it does not know it.
- a save that spans several subjects (several aggregates, or events plus a tracking position) is one ADR-50
  atomic batch of those messages: stored together or not at all. A save of one aggregate is one plain publish.
- a tracking position is a message on ``chorus.<app>.t.<upstream>`` holding the notification id, written with
  ``Nats-Expected-Last-Subject-Sequence`` equal to the position read before, so positions only move forward;
  a process recorder puts it in the same atomic batch as the events it caused.
- every message carries ``Chorus-Digest``, SHA-256 of the previous digest on its subject and its stored bytes
  (:mod:`.digest`); the recorder remembers each aggregate's last digest beside its (version, sequence) and reads
  it with the last message when it does not know it.
- ``Nats-Msg-Id`` is ``<call id>:<n>``, so a publish retried after a lost acknowledgement is recognised as the
  same write; correlation and causation ids of the current request travel as ``Chorus-Correlation-Id`` and
  ``Chorus-Causation-Id`` headers.

Modules, one job each: :mod:`.layout` (stream name, subjects, stream config), :mod:`.envelope` (events <->
messages, notification ids), :mod:`.bridge` (the asyncio loop thread), :mod:`.connection` (one NATS connection
and its JetStream calls), :mod:`.blocking` (the pool of blocking connections that publish saves from the saving
threads), :mod:`.recorders`, :mod:`.subscription`, :mod:`.factory`, :mod:`.jetstream` (the
persistence module the library loads), :mod:`.codec` (each domain event as its protobuf message) and
:mod:`.digest` (the digest chain), :mod:`.errors` (one root error, the JetStream error-code table, the store -> application error helper);
:mod:`.protobuf_mapper` is the codec's former name, re-exporting it.
"""

from services.common.eventstore.envelope import (
    CAUSATION_HEADER,
    COMMIT_TOPIC,
    CORRELATION_HEADER,
    IDS_PER_MESSAGE,
    TOPIC_HEADER,
    VERSION_HEADER,
    StoredMessage,
    decode_message,
    last_notification_id,
    message_events,
    message_sequence,
    notification_id,
)
from services.common.eventstore.errors import EventStoreError, store_errors
from services.common.eventstore.layout import StreamLayout, originator_from_token, originator_text_of_subject

__all__ = [
    "CAUSATION_HEADER",
    "COMMIT_TOPIC",
    "CORRELATION_HEADER",
    "IDS_PER_MESSAGE",
    "TOPIC_HEADER",
    "VERSION_HEADER",
    "EventStoreError",
    "StoredMessage",
    "StreamLayout",
    "decode_message",
    "last_notification_id",
    "message_events",
    "message_sequence",
    "notification_id",
    "originator_from_token",
    "originator_text_of_subject",
    "store_errors",
]
