"""Pure vendor rules: queue and vendor health, the breach projection and
staffed shift windows. No Django, no ORM (an import-linter contract)."""
