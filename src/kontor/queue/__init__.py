"""The walk-in queue: tickets issued at the front desk and called to the counters."""
