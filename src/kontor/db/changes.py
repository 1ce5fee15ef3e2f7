"""Counters of committed changes, for caches that must not outlive the data they were made from.

A counter watches some models: any session in this process that flushes or executes a change to one
of them and then commits bumps the counter; a rollback forgets the change. Caches keep the value
they were filled at and drop an entry once it differs.
"""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

_ids = itertools.count()


class CommitCounter:
    def __init__(self, *watched: type) -> None:
        self.watched = watched
        self._tables = {model.__table__ for model in watched}  # type: ignore[attr-defined]
        self.value = 0
        self._flag = f"kontor_changed_{next(_ids)}"
        event.listen(Session, "after_flush", self._note_flush)
        event.listen(Session, "do_orm_execute", self._note_statement)
        event.listen(Session, "after_commit", self._committed)
        event.listen(Session, "after_rollback", self._dropped)

    def _is_watched(self, instances: Any) -> bool:
        return any(isinstance(instance, self.watched) for instance in instances)

    def _note_flush(self, session: Session, _context: Any) -> None:
        if (
            self._is_watched(session.new)
            or self._is_watched(session.dirty)
            or self._is_watched(session.deleted)
        ):
            session.info[self._flag] = True

    def _note_statement(self, state: ORMExecuteState) -> None:
        if not (state.is_update or state.is_delete or state.is_insert):
            return
        mapper = state.bind_mapper
        # An ORM statement names its entity; a Core one (insert(table)) only its table.
        if (mapper is not None and issubclass(mapper.class_, self.watched)) or getattr(
            state.statement, "table", None
        ) in self._tables:
            state.session.info[self._flag] = True

    def _committed(self, session: Session) -> None:
        if session.info.pop(self._flag, False):
            self.value += 1

    def _dropped(self, session: Session) -> None:
        session.info.pop(self._flag, None)
