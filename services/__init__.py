"""Chorus services: identity, touchpoints, experience, and the kernel they share."""
