"""The touchpoints service: every interaction, touch and non-touch, recorded immutably (chorus.touchpoints.v1)."""
