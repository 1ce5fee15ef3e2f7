"""kontor: the citizen offices of a city, their hours, bookings, queues and contact center."""

__version__ = "0.1.0"
