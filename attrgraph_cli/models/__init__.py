"""Loading models and transcoders into a circuit-tracer `ReplacementModel` (for trace, autointerp, intervene).

`load_model(ModelRequest(...))` resolves the demo model, a local folder or a hub name (see `loader.py`);
torch and circuit-tracer are imported inside the functions, so importing this package stays light.
"""

from attrgraph_cli.models.loader import load_model
from attrgraph_cli.models.request import (
    LoadedModel,
    ModelNotAvailable,
    ModelRequest,
    describe_request,
    split_revision,
)
from attrgraph_cli.models.transcoders import TRANSCODER_ALIASES

__all__ = [
    "TRANSCODER_ALIASES",
    "LoadedModel",
    "ModelNotAvailable",
    "ModelRequest",
    "describe_request",
    "load_model",
    "split_revision",
]
