"""Word-level tokenizer of the demo model, built with `tokenizers`, loaded as a Hugging Face fast tokenizer.

One token per word or punctuation mark; `[BOS]` has id 2 (circuit-tracer skips a BOS of id 0 when it
picks the special token to prepend). Encoding with special tokens prepends `[BOS]`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from attrgraph_cli.demo_model.corpus import SPECIAL_TOKENS, vocabulary

if TYPE_CHECKING:
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

PAD, UNK, BOS, EOS = SPECIAL_TOKENS


def build_tokenizer(words: list[str] | None = None) -> Tokenizer:
    """A `tokenizers.Tokenizer` over the special tokens then `words` (default: the corpus vocabulary)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors

    words = vocabulary() if words is None else words
    vocab = {tok: i for i, tok in enumerate([*SPECIAL_TOKENS, *words])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=False)  # joins words with single spaces
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, vocab[BOS])]
    )
    return tok


def wrap_fast(tok: Tokenizer) -> PreTrainedTokenizerFast:
    """Wrap a raw tokenizer as a `PreTrainedTokenizerFast` with its special tokens declared."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=BOS, eos_token=EOS, unk_token=UNK, pad_token=PAD, add_bos_token=True
    )


def save_tokenizer(tok: Tokenizer, folder: Path) -> None:
    """Write tokenizer.json and the Hugging Face side files (tokenizer_config.json, ...) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    wrap_fast(tok).save_pretrained(str(folder))


def load_tokenizer_from(folder: Path) -> PreTrainedTokenizerFast:
    """Load the tokenizer saved in `folder`, from disk only.

    `add_bos_token=True` lands in the init kwargs, so TransformerLens keeps this object instead of
    reloading the tokenizer by its `name_or_path`.
    """
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast.from_pretrained(str(folder), add_bos_token=True, local_files_only=True)
