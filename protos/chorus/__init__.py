"""Chorus contracts: protobuf sources and their generated Python bindings (``python scripts/gen_protos.py``)."""
