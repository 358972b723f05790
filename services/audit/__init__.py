"""The auditor's tools behind ``chorus audit``: read-only replay, verification, as-of views, export, receipts.

- :mod:`.stream`: reading a whole stream with direct gets only (read-only credentials suffice).
- :mod:`.verify`: recompute the digest chains, check the signed checkpoints, find the first broken link.
- :mod:`.history`: decoded events, exports, erasure receipts, a party's history, experiences as of a past point.
- :mod:`.cli`: the typer commands.
"""
