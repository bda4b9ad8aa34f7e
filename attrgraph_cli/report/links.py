"""Links from a report back to Neuronpedia (issue 25 point 4): plain http(s) URLs a reader clicks, built from
the graph's metadata without any request (`neuronpedia/ids.py` says how Neuronpedia names models, source
sets, feature pages and graph pages).

- every feature of a graph whose scan and source set Neuronpedia hosts links to its feature page;
- a graph that came from Neuronpedia links to its graph page: the page it was opened from (a link input
  records it), else, for a file Neuronpedia made (its `info` names a Neuronpedia host), the page of its
  scan and slug.

The server is `$ATTRGRAPH_NEURONPEDIA_URL` when set (http or https), else Neuronpedia's own; a value that
is not an http(s) URL gives no links rather than an error (a report is not the place to refuse it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from attrgraph_cli.graph.model import AttributionGraph, NodeKind
from attrgraph_cli.neuronpedia.ids import (
    NEURONPEDIA_HOSTS,
    base_url,
    feature_page_url,
    graph_origin,
    graph_page_url,
    http_url,
    is_np_id,
    neuronpedia_source,
)


def _made_by_neuronpedia(info: dict[str, Any]) -> bool:
    urls = [info.get("creator_url")]
    if isinstance(info.get("source_urls"), list):
        urls += info["source_urls"][:64]
    for url in urls:
        if isinstance(url, str) and len(url) < 2000:
            try:
                if urlsplit(url).hostname in NEURONPEDIA_HOSTS:
                    return True
            except ValueError:
                continue
    return False


@dataclass(frozen=True)
class NeuronpediaLinks:
    """Where the graph's page is (None: not from Neuronpedia) and how its features' pages are named."""

    base: str
    graph: str | None
    model: str | None
    source_set: str | None

    @property
    def feature_prefix(self) -> str | None:
        """`{base}/{model}/`: a feature's page is this, then `{layer}-{source set}/{index}`."""
        if not self.model or not self.source_set:
            return None
        return f"{self.base.rstrip('/')}/{quote(self.model, safe='')}/"

    def feature(self, layer: int, index: int) -> str | None:
        """The feature page of feature `index` of `layer`, or None when Neuronpedia hosts none."""
        if not self.model or not self.source_set or layer < 0 or index < 0:
            return None
        return http_url(feature_page_url(self.base, self.model, self.source_set, layer, index))

    def node(self, graph: AttributionGraph, i: int) -> str | None:
        """The feature page of node `i` when it is a feature Neuronpedia hosts, else None."""
        nodes = graph.nodes
        if int(nodes.kind[i]) != NodeKind.FEATURE:
            return None
        return self.feature(int(nodes.layer[i]), int(nodes.feature[i]))

    def as_payload(self) -> dict[str, Any]:
        """`head.views.links`: the graph's page and the pieces of a feature page's URL."""
        return {"graph": self.graph, "featurePrefix": self.feature_prefix, "sourceSet": self.source_set}


def neuronpedia_links(graph: AttributionGraph) -> NeuronpediaLinks:
    """The graph's links back to Neuronpedia (all None when Neuronpedia hosts neither graph nor features)."""
    try:
        base = base_url()
    except ValueError:
        return NeuronpediaLinks("", None, None, None)
    meta = graph.metadata
    source = neuronpedia_source(meta)
    page = graph_origin(meta)
    info = meta.get("info") if isinstance(meta.get("info"), dict) else {}
    scan, slug = meta.get("scan"), meta.get("slug")
    if page is None and _made_by_neuronpedia(info) and is_np_id(scan) and isinstance(slug, str) and slug:
        page = graph_page_url(base, scan, slug[:300])
    model, source_set = source if source is not None else (None, None)
    return NeuronpediaLinks(base=base, graph=http_url(page), model=model, source_set=source_set)
