"""The publication policy: configured rules, checked in order; the first that fires decides.

Every rule escalates to the owner (``ESCALATE_TO_OWNER``); when none fires the decision is
``PUBLISH``. The rules (``policy.rules`` in the config chooses which, and their order):

``verdict-not-accept``            the tribunal's verdict is not ACCEPT
``no-claims``                     no claim was extracted from the target paper
``contradicted-claims``           an independent source contradicts at least one claim (verification label CONTRADICT)
``unverified-claims``             at least one extracted claim is not verified by an independent source
``verified-share-below-minimum``  verified / extracted claims is below ``policy.min_verified_share``

The decision records the rule that fired and, in ``basis``, the facts it fired on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from generator.pipeline.config import POLICY_RULES, PolicyConfig

ESCALATE = "ESCALATE_TO_OWNER"
PUBLISH = "PUBLISH"
NO_RULE = "none"


@dataclass(frozen=True)
class PolicyFacts:
    verdict: str
    claims_extracted: int
    claims_verified: int
    claims_contradicted: int = 0

    @property
    def verified_share(self) -> float:
        return self.claims_verified / self.claims_extracted if self.claims_extracted else 0.0


@dataclass(frozen=True)
class PolicyDecision:
    decision: str
    rule: str  # the rule that fired, or "none"
    basis: str


def _checks(config: PolicyConfig) -> dict[str, Callable[[PolicyFacts], str | None]]:
    """Each rule: facts -> why it fires (a sentence), or None."""
    def verdict(f: PolicyFacts):
        return f"the tribunal's verdict is {f.verdict}, not ACCEPT" if f.verdict != "ACCEPT" else None

    def no_claims(f: PolicyFacts):
        return "no claim was extracted from the target paper" if f.claims_extracted == 0 else None

    def contradicted(f: PolicyFacts):
        return (f"{f.claims_contradicted} of {f.claims_extracted} extracted claims are contradicted by an independent "
                "source" if f.claims_contradicted > 0 else None)

    def unverified(f: PolicyFacts):
        missing = f.claims_extracted - f.claims_verified
        return (f"{missing} of {f.claims_extracted} extracted claims are not verified by an independent source"
                if missing > 0 else None)

    def share(f: PolicyFacts):
        return (f"the verified share {f.verified_share:.2f} ({f.claims_verified} of {f.claims_extracted}) is below "
                f"the minimum {config.min_verified_share:g}" if f.verified_share < config.min_verified_share else None)

    return {"verdict-not-accept": verdict, "no-claims": no_claims, "contradicted-claims": contradicted,
            "unverified-claims": unverified,
            "verified-share-below-minimum": share}


def decide(facts: PolicyFacts, config: PolicyConfig = PolicyConfig()) -> PolicyDecision:
    checks = _checks(config)
    assert set(checks) == set(POLICY_RULES)
    order = ", ".join(config.rules) if config.rules else "none"
    for name in config.rules:
        why = checks[name](facts)
        if why:
            return PolicyDecision(ESCALATE, name, f"Rule {name} fired: {why}, so the owner decides "
                                                  f"(rules checked in order: {order}).")
    return PolicyDecision(PUBLISH, NO_RULE, f"No escalation rule fired (rules checked: {order}): verdict "
                                            f"{facts.verdict}, {facts.claims_verified} of {facts.claims_extracted} "
                                            "claims verified.")
