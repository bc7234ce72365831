"""Qt item models over plain engine objects."""
