"""The kernel every Chorus service shares: event store, contracts runtime, gRPC runtime, logging."""
