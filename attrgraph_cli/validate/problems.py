"""What a check reports: `Problem`s, collected per rule with a cap so that huge broken files stay readable."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]

#: problems kept per rule and file by default; the rest are only counted
DEFAULT_MAX_PER_RULE = 20


@dataclass(frozen=True)
class Problem:
    """One finding: where (`path`, e.g. `links[4012].target`), what is wrong, what was expected.

    `rule` names the check (e.g. `schema.type`, `links.endpoint`) so that reporters can group findings.
    """

    path: str
    message: str
    expected: str | None = None
    severity: Severity = "error"
    rule: str = "schema"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ProblemSink:
    """Collects problems, keeping at most `max_per_rule` of each rule and counting every one.

    Vectorised checks call `add_many` with a total count, so a million bad links cost one call.
    """

    max_per_rule: int | None = DEFAULT_MAX_PER_RULE
    problems: list[Problem] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    severities: dict[str, Severity] = field(default_factory=dict)

    def room(self, rule: str) -> int:
        """How many more problems of `rule` would be kept (a large number when uncapped)."""
        if self.max_per_rule is None:
            return 1 << 62
        kept = self.counts[rule] if self.counts[rule] < self.max_per_rule else self.max_per_rule
        return max(self.max_per_rule - kept, 0)

    def add(
        self, rule: str, path: str, message: str, expected: str | None = None, severity: Severity = "error"
    ) -> None:
        if self.room(rule) > 0:
            self.problems.append(Problem(path, message, expected, severity, rule))
        self.counts[rule] += 1
        self.severities[rule] = severity

    def add_many(self, rule: str, total: int, examples: list[Problem]) -> None:
        """Record `total` problems of `rule`, of which `examples` (already cut to `room(rule)`) are kept."""
        if total <= 0:
            return
        room = self.room(rule)
        self.problems.extend(examples[:room])
        self.counts[rule] += total
        self.severities[rule] = examples[0].severity if examples else self.severities.get(rule, "error")

    @property
    def n_errors(self) -> int:
        return sum(n for rule, n in self.counts.items() if self.severities[rule] == "error")

    @property
    def n_warnings(self) -> int:
        return sum(n for rule, n in self.counts.items() if self.severities[rule] == "warning")

    def omitted(self) -> dict[str, int]:
        """Per rule, how many problems were counted but not kept."""
        kept = Counter(p.rule for p in self.problems)
        return {rule: n - kept[rule] for rule, n in self.counts.items() if n > kept[rule]}
