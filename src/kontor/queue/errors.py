"""What can go wrong with a ticket that the person asking can understand and act on.

Each message is an English msgid: pages translate it, the API sends it as its ``detail``.
"""

from __future__ import annotations

from kontor.i18n import N_


class QueueError(Exception):
    """A queue action that cannot be done as asked; nothing was written."""

    message = N_("That cannot be done with this ticket.")

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message


class OfficeClosed(QueueError):
    message = N_("The office is closed now; tickets are issued while it is open.")


class NotWaiting(QueueError):
    message = N_("This ticket is no longer waiting: someone else may have called it.")


class NotYourTicket(QueueError):
    message = N_("This ticket is not at your counter.")


class UnknownService(QueueError):
    message = N_("This office does not take walk-ins for that service today.")


class CheckInRefused(QueueError):
    message = N_("This visit cannot be checked in.")
