"""The demo corpus generator: seeded, consistent with its table, held-out sets really held out."""

from __future__ import annotations

from attrgraph_cli.demo_model import corpus
from attrgraph_cli.demo_model.facts import HELD_OUT_CITIES, REGIONS


def region_of(city: str):
    return next(r for r in REGIONS if city in r.cities)


def _stream(seed: int, n: int) -> list[str]:
    gen = corpus.CorpusGenerator(seed=seed)
    return [gen.statement().text for _ in range(n)]


def test_generator_is_seeded():
    assert _stream(0, 200) == _stream(0, 200)
    assert _stream(0, 200) != _stream(1, 200)


def test_documents_join_statements_with_the_separator():
    doc = corpus.CorpusGenerator(seed=3).document(4)
    assert doc.count(f" {corpus.SEPARATOR} ") == 3


def test_held_out_two_hop_questions_never_appear_in_training():
    held = {ex.text for ex in corpus.two_hop_held_out_examples()}
    assert held and len(held) == len(corpus.two_hop_held_out_examples())
    trained = set(_stream(0, 20_000))
    assert not held & trained
    # ... while their one-hop facts are trained (that is what makes it a composition test)
    for city in HELD_OUT_CITIES:
        assert any(text.endswith(f" {city} {region_of(city).name}") for text in trained), city


def test_held_out_sums_are_not_trained_but_their_commuted_form_is():
    trained = {ex.prompt for ex in corpus.addition_examples()}
    for a, b in corpus.HELD_OUT_SUMS:
        assert f"{a} + {b} =" not in trained
        assert f"{b} + {a} =" in trained
    assert len(corpus.addition_examples()) + len(corpus.addition_examples(held_out=True)) == 100


def test_examples_agree_with_the_table():
    capital = {r.name: r.capital for r in REGIONS}
    for ex in corpus.two_hop_examples() + corpus.two_hop_held_out_examples():
        city = ex.prompt.split("containing ")[1].split()[0]
        region = region_of(city)
        assert ex.answer in (region.capital, region.language)
    for ex in corpus.one_hop_examples():
        if ex.prompt.startswith("The capital of "):
            assert capital[ex.prompt.split()[3]] == ex.answer
    sums = corpus.addition_examples()
    assert all(int(ex.prompt.split()[0]) + int(ex.prompt.split()[2]) == int(ex.answer) for ex in sums)


def test_showcase_prompts():
    prompts = {ex.prompt: ex.answer for ex in corpus.example_prompts()}
    assert prompts["The capital of the state containing Dallas is"] == "Austin"
    assert prompts["The opposite of hot is"] == "cold"
    assert prompts["3 + 4 ="] == "7"
    assert "Dallas" not in HELD_OUT_CITIES


def test_induction_examples_copy_the_list():
    for ex in corpus.induction_examples(n=50):
        first, second = ex.prompt.split(" ; ")
        assert first.split() == [*second.split(), ex.answer]


def test_vocabulary_covers_every_word_of_every_set():
    vocab = set(corpus.vocabulary())
    for examples in corpus.eval_sets().values():
        for ex in examples:
            assert set(ex.text.split()) <= vocab
    assert not vocab & set(corpus.SPECIAL_TOKENS)


def test_region_follows_the_city_directly_for_every_city():
    """'The city of Dallas Texas' / 'We visited Dallas Texas' are trained for every city, and nothing
    else names a city's region: the model has to look the region up at the city's own position."""
    examples = corpus.city_state_examples()
    cities = {city for r in REGIONS for city in r.cities}
    assert {ex.prompt.split()[-1] for ex in examples} == cities
    assert len(examples) == len(cities) * len(corpus.CITY_TEMPLATES)
    for ex in examples:
        assert ex.answer == region_of(ex.prompt.split()[-1]).name
    trained = set(_stream(0, 5_000))
    assert {"The city of Dallas Texas", "We visited Dallas Texas"} <= trained
    assert not any(" is in the state of " in t or t.startswith("The state containing") for t in trained)


def test_two_hop_questions_can_be_held_back():
    gen = corpus.CorpusGenerator(seed=0)
    gen.held_back = {"two_hop"}
    assert not any(" containing " in gen.statement().text for _ in range(2_000))
    gen.held_back = set()
    assert any(" containing " in gen.statement().text for _ in range(2_000))
