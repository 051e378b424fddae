"""Verification labels as the pipeline reads them: the one adapter to delete when verification.py has labels.

The verifier's ``Verification`` is moving to ``label`` in {SUPPORT, CONTRADICT, NOT_ENOUGH_INFO}, with
``contradicted_by`` and ``contradiction_score``. Until that lands, a ``Verification`` has only
``verified``; ``verdict_of`` reads either shape, so no other module needs to know which one it got.
At the merge: import the constants from ``generator.pipeline.verification`` and read the fields directly.
"""

from __future__ import annotations

from dataclasses import dataclass

SUPPORT = "SUPPORT"
CONTRADICT = "CONTRADICT"
NOT_ENOUGH_INFO = "NOT_ENOUGH_INFO"
LABELS = (SUPPORT, CONTRADICT, NOT_ENOUGH_INFO)


@dataclass(frozen=True)
class Verdict:
    """What one verification says about a claim, in the new interface's terms."""

    label: str
    best_source: str | None
    best_score: float
    contradicted_by: str | None = None
    contradiction_score: float = 0.0


def verdict_of(verification) -> Verdict:
    """The label (and contradiction) of a ``Verification`` of either the old or the new shape."""
    label = getattr(verification, "label", None)
    if label is None:
        label = SUPPORT if verification.verified else NOT_ENOUGH_INFO
    return Verdict(label=label, best_source=verification.best_source, best_score=float(verification.best_score),
                   contradicted_by=getattr(verification, "contradicted_by", None),
                   contradiction_score=float(getattr(verification, "contradiction_score", 0.0) or 0.0))
