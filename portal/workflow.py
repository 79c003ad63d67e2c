"""The life of a case: which stage may follow which, what each move needs, and its deadline.

The one place these rules live. Moving a case records a StageEvent and an audit event, sets the
next due date from the configured deadline of the new stage, and seals what the move needs: a
message to the reporter (acknowledgement, not eligible), the reason of the eligibility decision
(an internal note), or the outcome of the closure.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from .config import Settings
from .models import AuditEvent, Case, Outcome, StageEvent, today
from .stages import Stage

# Which stage may follow which (closing is always possible until closed).
NEXT: dict[Stage, tuple[Stage, ...]] = {
    Stage.RECEIVED: (Stage.ACKNOWLEDGED,),
    Stage.ACKNOWLEDGED: (Stage.ASSESSMENT,),
    Stage.ASSESSMENT: (Stage.NOT_ELIGIBLE, Stage.REFERRED_COMPANY, Stage.REFERRED_ALTERNATIVE),
    Stage.NOT_ELIGIBLE: (),
    Stage.REFERRED_COMPANY: (Stage.REVIEW,),
    Stage.REFERRED_ALTERNATIVE: (Stage.REVIEW,),
    Stage.REVIEW: (Stage.REMEDY_AGREED, Stage.REFERRED_COMPANY, Stage.REFERRED_ALTERNATIVE),
    Stage.REMEDY_AGREED: (Stage.REMEDY_MONITORING,),
    Stage.REMEDY_MONITORING: (),
    Stage.CLOSED: (),
}

# What a move into a stage needs from the caseworker.
NEEDS_MESSAGE = frozenset({Stage.ACKNOWLEDGED, Stage.NOT_ELIGIBLE})
NEEDS_REASON = frozenset({Stage.NOT_ELIGIBLE, Stage.REFERRED_COMPANY, Stage.REFERRED_ALTERNATIVE})
NEEDS_OUTCOME = frozenset({Stage.CLOSED})

# Days allowed in each stage before its next step is due (overridable in the settings).
DEFAULT_DEADLINES: dict[str, int] = {
    Stage.RECEIVED.value: 7,
    Stage.ACKNOWLEDGED.value: 14,
    Stage.ASSESSMENT.value: 30,
    Stage.NOT_ELIGIBLE.value: 7,
    Stage.REFERRED_COMPANY.value: 30,
    Stage.REFERRED_ALTERNATIVE.value: 60,
    Stage.REVIEW.value: 14,
    Stage.REMEDY_AGREED.value: 30,
    Stage.REMEDY_MONITORING.value: 90,
}


class TransitionError(ValueError):
    """A move the rules do not allow, or without what it needs."""


def allowed_moves(stage: Stage) -> tuple[Stage, ...]:
    """Stages a case in ``stage`` may move to (closing included while it is open)."""
    if stage is Stage.CLOSED:
        return ()
    return (*NEXT[stage], Stage.CLOSED)


def deadline_days(settings: Settings, stage: Stage) -> int | None:
    """The configured days allowed in ``stage``; None for a closed case."""
    if stage is Stage.CLOSED:
        return None
    return int(settings.stage_deadlines.get(stage.value, DEFAULT_DEADLINES[stage.value]))


@dataclass(frozen=True)
class Move:
    """What a caseworker asks for: the stage, and what that move needs."""

    to_stage: Stage
    message: str = ""
    reason: str = ""
    outcome: Outcome | None = None

    def problems(self, current: Stage) -> list[str]:
        """Why this move cannot be made (as codes), or an empty list."""
        found = []
        if self.to_stage not in allowed_moves(current):
            found.append("not_allowed")
        if self.to_stage in NEEDS_MESSAGE and not self.message.strip():
            found.append("message")
        if self.to_stage in NEEDS_REASON and not self.reason.strip():
            found.append("reason")
        if self.to_stage in NEEDS_OUTCOME and self.outcome is None:
            found.append("outcome")
        return found


def apply_move(db: Session, settings: Settings, case: Case, move: Move, actor: uuid.UUID) -> None:
    """Record the move on the case (the caller has sealed its message or reason, and commits)."""
    current = Stage(case.stage)
    problems = move.problems(current)
    if problems:
        raise TransitionError(",".join(problems))
    db.add(
        StageEvent(
            case_id=case.id,
            from_stage=current.value,
            to_stage=move.to_stage.value,
            actor_account_id=actor,
        )
    )
    case.stage = move.to_stage.value
    case.stage_changed_on = today()
    days = deadline_days(settings, move.to_stage)
    case.next_due_on = today() + timedelta(days=days) if days is not None else None
    if move.to_stage is Stage.CLOSED and move.outcome is not None:
        case.outcome = move.outcome.value
    db.add(
        AuditEvent(
            action="case.stage_changed",
            actor_account_id=actor,
            case_id=case.id,
            detail=f"{current.value}->{move.to_stage.value}",
        )
    )
