"""The contact center: calls logged as contacts, the hand-off of a caller's case to an office,
call-backs, and the signed webhooks that tell the contact center's own systems what happened."""
