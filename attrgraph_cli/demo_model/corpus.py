"""Seeded generator of the synthetic demo corpus, and the evaluation sets kept beside it.

The corpus is a stream of short statements, each a prompt followed by its one-token answer:

- one-hop facts: "The capital of Texas is Austin", "The language of France is French";
- city -> state/country as a bigram, "The city of Dallas Texas", "We visited Lyon France": the region
  always follows the city token directly, so the model learns to compute it *at the city's position*
  (together with the city substitution of `lm.train_lm`; see the model card's city-lookup section);
- two-hop facts: "The capital of the state containing Dallas is Austin",
  "The language of the country containing Lyon is French";
- antonyms: "The opposite of hot is cold" (both directions);
- single-digit addition: "3 + 4 = 7";
- copying / induction of names: "Alice Bob Carol Dan ; Alice Bob Carol Dan".

Held out of training (kept for evaluation): the two-hop questions about `facts.HELD_OUT_CITIES` (whose
city → region facts *are* trained: a composition test) and `HELD_OUT_SUMS` (a + b whose b + a is trained).
Name lists for induction are random, so every evaluation sequence is new.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from attrgraph_cli.demo_model.facts import ANTONYMS, HELD_OUT_CITIES, NAMES, REGIONS

SEPARATOR = "."
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[BOS]", "[EOS]")  # ids 0..3: BOS is 2, never 0


@dataclass(frozen=True)
class Example:
    """One prompt whose next token should be `answer` (a single word-level token)."""

    prompt: str
    answer: str
    task: str

    @property
    def text(self) -> str:
        return f"{self.prompt} {self.answer}"


def one_hop_examples() -> list[Example]:
    """Every region -> capital / language fact of the table (all are trained; accuracy measures recall)."""
    out: list[Example] = []
    for region in REGIONS:
        out.append(Example(f"The capital of {region.name} is", region.capital, "one_hop"))
        if region.language:
            out.append(Example(f"The language of {region.name} is", region.language, "one_hop"))
    return out


CITY_TEMPLATES = ("The city of {city}", "We visited {city}")


def city_state_examples() -> list[Example]:
    """City -> state/country as a bigram ("The city of Dallas Texas"): all trained, for every city."""
    return [
        Example(template.format(city=city), region.name, "city_state")
        for region in REGIONS
        for city in region.cities
        for template in CITY_TEMPLATES
    ]


def _two_hop(held_out: bool) -> list[Example]:
    out: list[Example] = []
    for region in REGIONS:
        for city in region.cities:
            if (city in HELD_OUT_CITIES) != held_out:
                continue
            task = "two_hop_held_out" if held_out else "two_hop"
            out.append(
                Example(f"The capital of the {region.kind} containing {city} is", region.capital, task)
            )
            if region.language:
                out.append(
                    Example(f"The language of the country containing {city} is", region.language, task)
                )
    return out


def two_hop_examples() -> list[Example]:
    """Two-hop questions that appear in training."""
    return _two_hop(held_out=False)


def two_hop_held_out_examples() -> list[Example]:
    """Two-hop questions never trained, about cities whose city → region facts were trained."""
    return _two_hop(held_out=True)


def antonym_examples() -> list[Example]:
    out = []
    for a, b in ANTONYMS:
        out.append(Example(f"The opposite of {a} is", b, "antonym"))
        out.append(Example(f"The opposite of {b} is", a, "antonym"))
    return out


HELD_OUT_SUMS: frozenset[tuple[int, int]] = frozenset(
    {(1, 8), (2, 6), (3, 9), (4, 7), (5, 2), (7, 3), (9, 4)}
)


def addition_examples(held_out: bool = False) -> list[Example]:
    """Single-digit sums; `held_out=True` gives the sums never trained (their commuted form is)."""
    task = "addition_held_out" if held_out else "addition"
    return [
        Example(f"{a} + {b} =", str(a + b), task)
        for a in range(10)
        for b in range(10)
        if ((a, b) in HELD_OUT_SUMS) == held_out
    ]


def induction_example(rng: random.Random, min_len: int = 3, max_len: int = 6) -> Example:
    """A random list of distinct names, then the list again with its last name to be predicted."""
    names = rng.sample(NAMES, rng.randint(min_len, max_len))
    prompt = " ".join(names) + " ; " + " ".join(names[:-1])
    return Example(prompt, names[-1], "induction")


def induction_examples(n: int = 200, seed: int = 12345) -> list[Example]:
    """Fresh random induction sequences (a seed different from training's gives unseen lists)."""
    rng = random.Random(seed)
    return [induction_example(rng) for _ in range(n)]


def eval_sets() -> dict[str, list[Example]]:
    """The evaluation sets, by name, as reported in the model card."""
    return {
        "one_hop": one_hop_examples(),
        "city_state": city_state_examples(),
        "two_hop": two_hop_examples(),
        "two_hop_held_out": two_hop_held_out_examples(),
        "antonym": antonym_examples(),
        "addition": addition_examples(),
        "addition_held_out": addition_examples(held_out=True),
        "induction": induction_examples(),
    }


def example_prompts() -> list[Example]:
    """The showcase prompts (used for the card's graph scores and by other stages' tests)."""
    return [
        Example("The capital of the state containing Dallas is", "Austin", "two_hop"),
        Example("The opposite of hot is", "cold", "antonym"),
        Example("3 + 4 =", "7", "addition"),
        Example("Alice Bob Carol Dan ; Alice Bob Carol", "Dan", "induction"),
    ]


# Mixture of statement kinds in the training stream (weights, not probabilities). Two-hop questions are
# rarer than the city -> region bigrams and held back at first (`LMSettings.two_hop_from_step`), so the
# model learns the region at the city before it learns to answer two-hop questions.
TASK_WEIGHTS = {
    "one_hop": 4.0,
    "city_state": 3.0,
    "two_hop": 1.5,
    "antonym": 1.5,
    "addition": 1.5,
    "induction": 2.0,
}


class CorpusGenerator:
    """Infinite, seeded stream of training statements (prompt + answer, without separator)."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.pools = {
            "one_hop": one_hop_examples(),
            "city_state": city_state_examples(),
            "two_hop": two_hop_examples(),
            "antonym": antonym_examples(),
            "addition": addition_examples(),
        }
        self.held_back: set[str] = set()  # statement kinds not drawn for now (the LM's curriculum)

    def statement(self) -> Example:
        tasks = [t for t in TASK_WEIGHTS if t not in self.held_back]
        task = self.rng.choices(tasks, [TASK_WEIGHTS[t] for t in tasks])[0]
        if task == "induction":
            return induction_example(self.rng)
        return self.rng.choice(self.pools[task])

    def document(self, n_statements: int) -> str:
        """Statements joined by the separator, e.g. "3 + 4 = 7 . The opposite of hot is cold"."""
        return f" {SEPARATOR} ".join(self.statement().text for _ in range(n_statements))


def vocabulary() -> list[str]:
    """Every word the corpus and the evaluation sets can produce, in a fixed order."""
    words: dict[str, None] = {}
    sets = eval_sets()
    texts = [ex.text for examples in sets.values() for ex in examples]
    texts += [f"{a} + {b} = {a + b}" for a in range(10) for b in range(10)]
    texts += [" ".join(NAMES), f"; {SEPARATOR}"]
    for text in texts:
        for word in text.split():
            words.setdefault(word, None)
    return list(words)
