"""Tokens of a loaded model: a target string as one vocabulary id, or a clear error."""

from __future__ import annotations

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.models.request import LoadedModel


class PromptError(AttrgraphError):
    """The prompt or a target cannot be traced on this model."""


def target_token_id(loaded: LoadedModel, token: str, flag: str = "--target") -> int:
    """The vocabulary id of a one-token target string, or a clear error."""
    tok = loaded.tokenizer
    if token == "":
        raise PromptError(f"{flag} is empty")
    ids = tok.encode(token, add_special_tokens=False)
    unk = getattr(tok, "unk_token_id", None)
    if len(ids) != 1 or (unk is not None and ids[0] == unk and token != tok.unk_token):
        pieces = [tok.decode([i]) for i in ids]
        detail = f"it is {len(ids)} tokens {pieces!r}" if len(ids) > 1 else "it is not in the vocabulary"
        raise PromptError(f"{flag} {token!r} is not a single token of this model's vocabulary: {detail}")
    return int(ids[0])
