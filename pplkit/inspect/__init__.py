"""Seeing a model: its graph as plain data, drawn with graphviz, and its shapes.

* :func:`get_model_relations` runs a model (or guide) and returns a
  :class:`ModelGraph`: nodes with their role, distribution, plates and parents.
* :func:`render_model` draws it, with Pyro's visual grammar; :func:`to_graphviz`
  draws a graph you already have.
* :func:`format_shapes` prints the shapes of every site.

Example::

    from pplkit.inspect import get_model_relations, render_model
    render_model(model, model_args=(x, y), render_distributions=True)
"""

from .graph import Cluster, ModelGraph, Node, NodeRole, Plate
from .relations import constraint_name, distribution_name, format_shapes, get_model_relations
from .render import NODE_STYLES, GraphvizNotFound, render_model, to_dot, to_graphviz
from .summaries import SiteSummary, summarize_posterior

__all__ = [
    "Cluster",
    "GraphvizNotFound",
    "NODE_STYLES",
    "ModelGraph",
    "Node",
    "NodeRole",
    "Plate",
    "SiteSummary",
    "constraint_name",
    "distribution_name",
    "format_shapes",
    "get_model_relations",
    "render_model",
    "summarize_posterior",
    "to_dot",
    "to_graphviz",
]
