from dataclasses import dataclass

import pytest

from services.common.records import pick


@dataclass
class Draft:
    text: str
    language: str


def test_pick_takes_the_named_keys_of_a_mapping_in_the_order_named():
    assert list(pick({"a": 1, "b": 2, "c": 3}, "c", "a").items()) == [("c", 3), ("a", 1)]


def test_pick_takes_the_named_attributes_of_an_object():
    assert pick(Draft("hello", "en"), "language", "text") == {"language": "en", "text": "hello"}


def test_pick_raises_what_indexing_or_attribute_access_raises_for_a_missing_name():
    with pytest.raises(KeyError):
        pick({"a": 1}, "b")
    with pytest.raises(AttributeError):
        pick(Draft("hello", "en"), "channel")
