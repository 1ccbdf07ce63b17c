"""Pure incident rules: no ORM, no settings, no I/O. Inputs are plain values;
outputs are values or a raised DomainError."""
