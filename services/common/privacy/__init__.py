"""Personal data at rest: marked fields, per-subject data keys, keyed identifier ids (see ``marks``, ``vault``,
``sealing``)."""
