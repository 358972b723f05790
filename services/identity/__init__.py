"""The identity service: parties, identifiers, reversible merges, consent (issue 3)."""
