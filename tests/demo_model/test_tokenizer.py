"""The word-level tokenizer: BOS id != 0, saved and reloaded from a folder with no hub access."""

from __future__ import annotations

import pytest

pytest.importorskip("tokenizers")
pytest.importorskip("transformers")

from attrgraph_cli.demo_model import corpus  # noqa: E402
from attrgraph_cli.demo_model.tokenizer import build_tokenizer, load_tokenizer_from, save_tokenizer  # noqa: E402


@pytest.fixture(scope="module")
def saved_tokenizer(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tok")
    save_tokenizer(build_tokenizer(), folder)
    return folder, load_tokenizer_from(folder)


def test_special_tokens(saved_tokenizer):
    folder, tok = saved_tokenizer
    assert (folder / "tokenizer.json").is_file()
    assert tok.bos_token_id == 2 != 0
    assert tok.pad_token_id == 0 and tok.unk_token_id == 1
    assert tok.init_kwargs.get("add_bos_token") is True  # TransformerLens then keeps this object
    assert tok("The opposite of hot is").input_ids[0] == tok.bos_token_id


def test_every_answer_is_one_known_token(saved_tokenizer):
    _, tok = saved_tokenizer
    for examples in corpus.eval_sets().values():
        for ex in examples:
            ids = tok(ex.text, add_special_tokens=False).input_ids
            assert tok.unk_token_id not in ids, ex.text
            assert tok.convert_ids_to_tokens(ids[-1]) == ex.answer
    assert tok.decode(tok("The city of Dallas Texas").input_ids, skip_special_tokens=True) == (
        "The city of Dallas Texas"
    )


def test_unknown_words_map_to_unk(saved_tokenizer):
    _, tok = saved_tokenizer
    assert tok("The capital of Atlantis", add_special_tokens=False).input_ids[-1] == tok.unk_token_id


@pytest.mark.trace
def test_circuit_tracer_prepends_our_bos(saved_tokenizer):
    pytest.importorskip("circuit_tracer")
    from circuit_tracer.replacement_model.common import ensure_tokenized

    _, tok = saved_tokenizer
    ids = ensure_tokenized("3 + 4 =", tok, "cpu", "attrgraph-demo")
    assert ids.tolist() == [tok.bos_token_id, *tok("3 + 4 =", add_special_tokens=False).input_ids]
