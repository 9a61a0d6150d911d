"""Drawing a :class:`~pplkit.inspect.graph.ModelGraph` with graphviz.

The DOT text is built here as plain strings (:func:`to_dot`), so it needs neither
the ``graphviz`` package nor the ``dot`` program; :func:`to_graphviz` wraps it in a
``graphviz.Digraph`` (imported only then) for display and files.

The look follows Pyro's ``render_model``: plates are boxes labelled at the bottom
right, latent sites white ellipses, observed sites gray, params plain text,
deterministic sites dashed. pplkit adds: plate sizes in the labels, a look of their
own for ``do``-intervened sites (a bold rounded box showing the value) and factors
(a gray box, as in factor graphs), white rather than gray deterministic sites (they
are not data), and an SVG ``id`` on every node (``node:<site>``), plate box
(``plate:<outer>/<inner>``) and edge (``edge:<parent>-><child>``), with a CSS class
naming the node's role, so a widget can map a click back to its site.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from ..util import write_atomically
from .graph import Cluster, ModelGraph, Node, NodeRole
from .relations import Args, Kwargs, relations_for
from .summaries import Posterior, summarize_posterior

if TYPE_CHECKING:
    import graphviz

__all__ = ["GraphvizNotFound", "NODE_STYLES", "render_model", "to_dot", "to_graphviz"]

# The look of each role: graphviz node attributes.
NODE_STYLES: dict[NodeRole, dict[str, str]] = {
    NodeRole.LATENT: {"shape": "ellipse", "style": "filled", "fillcolor": "white"},
    NodeRole.OBSERVED: {"shape": "ellipse", "style": "filled", "fillcolor": "gray"},
    NodeRole.SOMETIMES_OBSERVED: {"shape": "ellipse", "style": "filled", "fillcolor": "gray:white"},
    NodeRole.INTERVENED: {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "white"},
    NodeRole.DETERMINISTIC: {"shape": "ellipse", "style": "filled,dashed", "fillcolor": "white"},
    NodeRole.FACTOR: {"shape": "box", "style": "filled", "fillcolor": "gray"},
    NodeRole.PARAM: {"shape": "plain"},
}

_PLATE_STYLE = {"labeljust": "r", "labelloc": "b"}

_INSTALL_HINT = (
    "The Graphviz program `dot`, which lays out and draws the graph, was not found on PATH. "
    "The graph itself was built: its DOT text is in `.source`. To draw it, install Graphviz:\n"
    "  Debian/Ubuntu:  sudo apt-get install graphviz\n"
    "  conda (Binder): conda install -c conda-forge graphviz\n"
    "  macOS:          brew install graphviz\n"
    "  Windows:        winget install graphviz  (then add its bin folder to PATH)\n"
    "and restart the Python kernel."
)


class GraphvizNotFound(RuntimeError):
    """Drawing needs the Graphviz program ``dot``, which is not installed or not on PATH."""


# -- DOT text -------------------------------------------------------------------------------------


def to_dot(
    graph: ModelGraph,
    render_distributions: bool = False,
    render_params: bool = False,
    render_deterministic: bool = False,
) -> str:
    """The DOT source drawing ``graph``; see :func:`render_model` for the options.

    Example::

        print(to_dot(get_model_relations(model, (x, y))))
    """
    return "digraph {\n" + "".join(_body(graph, render_distributions, render_params, render_deterministic)) + "}\n"


def _body(graph: ModelGraph, render_distributions: bool, render_params: bool, render_deterministic: bool) -> list[str]:
    options = ((NodeRole.PARAM, render_params), (NodeRole.DETERMINISTIC, render_deterministic))
    shown = graph.hide(*(role for role, drawn in options if not drawn))
    top, clusters = shown.layout()
    lines = [_node_line(shown.nodes[name], "\t") for name in top]
    for cluster in clusters:
        lines.extend(_cluster_lines(shown, cluster, "\t"))
    for parent, child in shown.edges():
        lines.append(f"\t{_quote(parent)} -> {_quote(child)} [id={_quote(f'edge:{parent}->{child}')}]\n")
    if render_distributions:
        legend = "".join(_escape(line) + r"\l" for line in _legend_lines(shown))
        if legend:
            name = "legend"
            while name in shown.nodes:
                name += "_"
            lines.append(f"\t{_quote(name)} [label={_quote_escaped(legend)} id=legend shape=plaintext]\n")
    return lines


def _node_line(node: Node, indent: str) -> str:
    label = _escape(node.name)
    if node.fixed_value is not None:
        label += " = " + _escape(node.fixed_value)
    if node.posterior is not None:
        label += r"\n" + _escape(str(node.posterior))
    attributes = {"label": label, "id": f"node:{node.name}", "class": node.role.value, **NODE_STYLES[node.role]}
    return f"{indent}{_quote(node.name)} [{_attributes(attributes)}]\n"


def _cluster_lines(graph: ModelGraph, cluster: Cluster, indent: str) -> Iterator[str]:
    plate = graph.plates[cluster.plate]
    attributes = {"id": cluster.id, "class": "plate", "label": _escape(plate.label), **_PLATE_STYLE}
    yield f"{indent}subgraph {_quote('cluster_' + '/'.join(cluster.path))} {{\n"
    yield f"{indent}\t{_attributes(attributes)}\n"
    for name in cluster.nodes:
        yield _node_line(graph.nodes[name], indent + "\t")
    for child in cluster.children:
        yield from _cluster_lines(graph, child, indent + "\t")
    yield f"{indent}}}\n"


def _legend_lines(graph: ModelGraph) -> Iterator[str]:
    # Pyro's legend: the sample sites' distributions, then each param with its constraint
    # as torch prints it ("sigma : GreaterThan(lower_bound=0.0)").
    params = []
    for node in graph:
        if node.role is NodeRole.PARAM:
            params.append(f"{node.name} : {node.constraint_repr or node.constraint}")
        elif node.role is NodeRole.FACTOR:
            yield f"{node.name} : factor"
        elif node.role is NodeRole.INTERVENED:
            yield f"{node.name} = {node.fixed_value} (do)"
        elif node.distribution is not None:
            yield f"{node.name} ~ {node.distribution}"
    yield from params


def _attributes(attributes: dict[str, str]) -> str:
    # Values are already escaped for DOT's escString (labels); only quoting is left.
    return " ".join(f"{key}={_quote_escaped(value)}" for key, value in attributes.items())


def _escape(text: str) -> str:
    """Text shown literally inside a DOT label (backslashes start DOT escapes)."""
    return text.replace("\\", "\\\\")


def _quote(name: str) -> str:
    """A site name as a DOT identifier."""
    return _quote_escaped(_escape(name))


_PLAIN_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOT_KEYWORDS = frozenset({"node", "edge", "graph", "digraph", "subgraph", "strict"})


def _quote_escaped(text: str) -> str:
    if _PLAIN_ID.fullmatch(text) and text.lower() not in _DOT_KEYWORDS:
        return text
    return '"' + text.replace('"', '\\"') + '"'


# -- graphviz ---------------------------------------------------------------------------------------


def to_graphviz(
    graph: ModelGraph,
    render_distributions: bool = False,
    render_params: bool = False,
    render_deterministic: bool = False,
) -> graphviz.Digraph:
    """``graph`` as a ``graphviz.Digraph`` (shown as SVG in Jupyter); options as in :func:`render_model`.

    Example::

        to_graphviz(get_model_relations(model, (x, y)), render_distributions=True)
    """
    body = _body(graph, render_distributions, render_params, render_deterministic)
    return _digraph_class()(body=body)


@functools.cache
def _digraph_class() -> type[graphviz.Digraph]:
    try:
        import graphviz
    except ImportError as error:
        raise ImportError(
            "drawing a model needs the Python package graphviz: pip install graphviz "
            "(and the Graphviz program itself, e.g. sudo apt-get install graphviz)"
        ) from error

    class ModelDigraph(graphviz.Digraph):
        """A Digraph whose drawing methods say how to install Graphviz when ``dot`` is missing."""

        def pipe(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().pipe(*args, **kwargs)
            except graphviz.ExecutableNotFound as error:
                raise GraphvizNotFound(_INSTALL_HINT) from error

        def render(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().render(*args, **kwargs)
            except graphviz.ExecutableNotFound as error:
                raise GraphvizNotFound(_INSTALL_HINT) from error

    return ModelDigraph


def render_model(
    model: Callable[..., Any],
    model_args: Args | list[Args] | None = (),
    model_kwargs: Kwargs | list[Kwargs] | None = None,
    filename: str | os.PathLike[str] | None = None,
    render_distributions: bool = False,
    render_params: bool = False,
    render_deterministic: bool = False,
    *,
    posterior: Posterior | None = None,
    num_samples: int = 100,
    seed: int = 0,
) -> graphviz.Digraph:
    """Draw a model (or guide): its sites, the plates around them and what feeds what.

    Args:
        model: a model or a guide.
        model_args: a tuple of the model's positional arguments, or a list of tuples
            for a model called with several argument sets (sites observed in some
            sets and latent in others are shaded half gray).
        model_kwargs: a dict of keyword arguments, or a list of dicts.
        filename: also write the drawing to this file, in the format its suffix names
            (``.svg``, ``.png``, ``.pdf``, ...; ``.gv``/``.dot`` write the DOT text).
        render_distributions: add a legend: ``x ~ Normal`` per sample site and
            ``sigma : positive`` per param.
        render_params: draw params, with edges to the sites they feed.
        render_deterministic: draw deterministic sites (otherwise edges pass through them).
        posterior: a guide or a dict of posterior samples; latent sites are labelled
            with their posterior mean ± sd (a guide is run with the first argument set).
        num_samples: how many times to run a guide given as ``posterior``.
        seed: the seed for the model's prior draw (and the guide's draws).

    Returns:
        a ``graphviz.Digraph``: Jupyter shows it; ``.source`` is its DOT text.

    Example::

        from pplkit.examples import model
        render_model(model, model_args=(is_cont_africa, ruggedness, log_gdp), render_distributions=True)
    """
    file_format = _file_format(filename) if filename is not None else None
    graph = relations_for(model, model_args, model_kwargs, seed=seed, caller="render_model")
    if posterior is not None:
        args, kwargs = _first_arguments(model_args, model_kwargs)
        graph = graph.with_posterior(summarize_posterior(posterior, args, kwargs, num_samples=num_samples, seed=seed))
    digraph = to_graphviz(graph, render_distributions, render_params, render_deterministic)
    if filename is not None and file_format is not None:
        _write(digraph, Path(filename), file_format)
    return digraph


def _first_arguments(model_args: Any, model_kwargs: Any) -> tuple[Args, Kwargs]:
    args = model_args[0] if isinstance(model_args, list) else model_args
    kwargs = model_kwargs[0] if isinstance(model_kwargs, list) else model_kwargs
    return tuple(args or ()), dict(kwargs or {})


_SOURCE_SUFFIXES = ("gv", "dot")


def _file_format(filename: str | os.PathLike[str]) -> str:
    """The output format named by the file's suffix; checked before anything runs or is written."""
    import graphviz

    path = Path(filename)
    suffix = path.suffix[1:].lower()
    if suffix not in _SOURCE_SUFFIXES and suffix not in graphviz.FORMATS:
        common = "svg, png, pdf, jpg, gv"
        raise ValueError(
            f"render_model: cannot tell the image format from filename {str(filename)!r}: "
            f"give it a suffix such as {common} (Graphviz knows: {', '.join(sorted(graphviz.FORMATS))})"
        )
    if not path.parent.is_dir():
        raise FileNotFoundError(f"render_model: the folder {str(path.parent)!r} for {str(filename)!r} does not exist")
    return suffix


def _write(digraph: graphviz.Digraph, path: Path, file_format: str) -> None:
    """Write the drawing, or nothing: a failed write leaves any old file untouched."""
    data = digraph.source.encode() if file_format in _SOURCE_SUFFIXES else digraph.pipe(format=file_format)
    write_atomically(path, data)
