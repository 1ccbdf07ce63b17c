"""Pure escalation rules: policy steps, personal notification timing,
message signing for chat robots and webhooks. No ORM, no I/O."""
