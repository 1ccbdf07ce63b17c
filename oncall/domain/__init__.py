"""Pure rotation arithmetic: no ORM, no settings. Times in, shifts out."""
