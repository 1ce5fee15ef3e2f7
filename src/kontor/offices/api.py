"""Routes of this area."""

ROUTES: list = []
