"""Live updates of an office's pages (waiting-room screen, tickets, desk, counters) across instances."""

from kontor.live.bus import LiveBus, LiveEvent, MemoryBus, announce, create_bus, live_bus, register_bus

__all__ = ["LiveBus", "LiveEvent", "MemoryBus", "announce", "create_bus", "live_bus", "register_bus"]
