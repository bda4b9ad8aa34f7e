"""attrgraph: trace, validate, label, cluster, intervene on and render attribution graphs."""

__version__ = "0.1.0"
