"""A model's graph as plain data: nodes, plates and the edges between them.

:func:`~pplkit.inspect.get_model_relations` builds a :class:`ModelGraph` from a run of
the model; :func:`~pplkit.inspect.to_graphviz` draws one, and the widgets read one. It
holds only names, strings and small tuples, so tests can compare it with known answers
and a learner can print it.

Example::

    from pplkit.examples import model
    graph = get_model_relations(model, (is_cont_africa, ruggedness, log_gdp))
    graph.nodes["obs"].parents      # ('a', 'bA', 'bR', 'bAR', 'sigma')
    graph.nodes["obs"].plates       # ('data',)
    graph.plates["data"].size       # 170
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Iterable, Iterator, Mapping

from ..runtime import SiteKind

if TYPE_CHECKING:
    from .summaries import SiteSummary

__all__ = ["Cluster", "ModelGraph", "Node", "NodeRole", "Plate"]


class NodeRole(enum.Enum):
    """What a node is, for drawing: each role has its own look (see ``render.NODE_STYLES``)."""

    LATENT = "latent"  # a sample site the model draws
    OBSERVED = "observed"  # a sample site given data
    SOMETIMES_OBSERVED = "sometimes_observed"  # observed in some argument sets, latent in others
    INTERVENED = "intervened"  # fixed from outside by ``do``: a constant, cut from its causes
    DETERMINISTIC = "deterministic"  # a named function of other sites
    FACTOR = "factor"  # an extra log-density term
    PARAM = "param"  # a learnable parameter

    @property
    def is_random(self) -> bool:
        """True for sample sites with a distribution of their own (not fixed by ``do``)."""
        return self in (NodeRole.LATENT, NodeRole.OBSERVED, NodeRole.SOMETIMES_OBSERVED)


@dataclass(frozen=True)
class Plate:
    """A plate: its name, full size, the size present in the run, and its batch dim.

    ``dim`` is None for a sequential plate (``for i in plate(...)``).
    """

    name: str
    size: int
    subsample_size: int
    dim: int | None

    @property
    def label(self) -> str:
        """How the plate is labelled in drawings: ``data (170)`` or ``data (10 of 170)``."""
        if self.subsample_size != self.size:
            return f"{self.name} ({self.subsample_size} of {self.size})"
        return f"{self.name} ({self.size})"


@dataclass(frozen=True)
class Node:
    """One site of the model.

    Attributes:
        name: the site's name.
        kind: the primitive that made it (sample, param, deterministic or factor).
        role: how it is drawn: latent, observed, param, ... (see :class:`NodeRole`).
        parents: the sites whose values flowed into this site's distribution (for a
            deterministic site: into its value), in the order the model ran them.
        plates: the plates it sits in, outermost first.
        distribution: the family name (``"Normal"``), with wrappers such as
            ``Independent`` removed; None for params.
        support: the support of a sample site's distribution (``"real"``, ``"positive"``).
        constraint: a param's constraint (``"positive"``); None for other sites.
        constraint_repr: the same constraint as Pyro's legend prints it
            (``"GreaterThan(lower_bound=0.0)"``).
        shape: the shape of the site's value.
        fixed_value: for a ``do``-intervened site, the value it was fixed to, as text.
        posterior: a posterior summary (mean and sd), when one was given.
    """

    name: str
    kind: SiteKind
    role: NodeRole
    parents: tuple[str, ...] = ()
    plates: tuple[str, ...] = ()
    distribution: str | None = None
    support: str | None = None
    constraint: str | None = None
    constraint_repr: str | None = None
    shape: tuple[int, ...] = ()
    fixed_value: str | None = None
    posterior: SiteSummary | None = field(default=None, compare=False)

    @property
    def is_observed(self) -> bool:
        return self.role is NodeRole.OBSERVED


@dataclass(frozen=True)
class Cluster:
    """One box drawn for a plate. A plate crossing another is drawn once per nesting.

    ``path`` lists the plates from the outermost down to this one; ``nodes`` are the
    nodes directly inside (not in a child cluster).
    """

    plate: str
    path: tuple[str, ...]
    nodes: tuple[str, ...]
    children: tuple[Cluster, ...]

    @property
    def id(self) -> str:
        """A stable id for this box, ``plate:outer/inner``, used as the SVG element id."""
        return "plate:" + "/".join(self.path)

    def walk(self) -> Iterator[Cluster]:
        """This cluster and every cluster inside it, outer before inner."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class ModelGraph:
    """The nodes (in the order the model ran them) and plates of a model.

    ``plates`` is ordered so that a plate containing another comes first; each node's
    ``plates`` follow the same order.
    """

    nodes: Mapping[str, Node]
    plates: Mapping[str, Plate]

    def __getitem__(self, name: str) -> Node:
        return self.nodes[name]

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes.values())

    def __len__(self) -> int:
        return len(self.nodes)

    def edges(self) -> list[tuple[str, str]]:
        """(parent, child) pairs, children in node order, each child's parents in node order."""
        return [(parent, node.name) for node in self.nodes.values() for parent in node.parents]

    def roles(self, *roles: NodeRole) -> list[str]:
        """The names of the nodes with one of the given roles, in node order."""
        return [n.name for n in self.nodes.values() if n.role in roles]

    def hide(self, *roles: NodeRole) -> ModelGraph:
        """The graph without the nodes of the given roles.

        A hidden node's parents become parents of its children, so hiding a
        deterministic site ``mu = a + b`` keeps the dependence of ``y ~ N(mu, 1)`` on
        ``a`` and ``b``. Plates left without nodes are dropped.

        Example::

            graph.hide(NodeRole.PARAM, NodeRole.DETERMINISTIC)
        """
        hidden = {n.name for n in self.nodes.values() if n.role in roles}
        if not hidden:
            return self
        order = {name: i for i, name in enumerate(self.nodes)}
        through: dict[str, frozenset[str]] = {}  # hidden node -> the visible nodes it stands for

        def visible(name: str, seen: frozenset[str] = frozenset()) -> frozenset[str]:
            if name not in hidden:
                return frozenset((name,))
            if name not in through:
                if name in seen:  # a cycle, possible only across merged argument sets
                    return frozenset()
                parents = self.nodes[name].parents
                through[name] = frozenset().union(*(visible(p, seen | {name}) for p in parents))
            return through[name]

        nodes: dict[str, Node] = {}
        for name, node in self.nodes.items():
            if name not in hidden:
                parents = frozenset().union(*(visible(p) for p in node.parents)) - {name}
                nodes[name] = replace(node, parents=tuple(sorted(parents, key=order.__getitem__)))
        used = {p for n in nodes.values() for p in n.plates}
        return ModelGraph(nodes, {k: v for k, v in self.plates.items() if k in used})

    def with_posterior(self, summaries: Mapping[str, SiteSummary]) -> ModelGraph:
        """The same graph with ``node.posterior`` set for the latent and deterministic sites named."""
        annotate = {NodeRole.LATENT, NodeRole.SOMETIMES_OBSERVED, NodeRole.DETERMINISTIC}
        nodes = {
            name: replace(node, posterior=summaries[name]) if name in summaries and node.role in annotate else node
            for name, node in self.nodes.items()
        }
        return ModelGraph(nodes, self.plates)

    def layout(self) -> tuple[tuple[str, ...], tuple[Cluster, ...]]:
        """The nodes outside every plate, and the tree of plate boxes to draw.

        Graphviz boxes must nest, but plates may cross (a site in plates ``a`` and ``b``
        beside sites in ``a`` only and in ``b`` only). Each node's plates, in this
        graph's plate order, form a path from the outermost box inwards; nodes whose
        paths share a prefix share those boxes. A plate that crosses another therefore
        appears as two boxes with the same label, e.g. ``b`` alone and ``b`` inside
        ``a``: every node sits in a box of each of its plates and in no other.
        """
        return _layout(self.nodes.values())


def _layout(nodes: Iterable[Node]) -> tuple[tuple[str, ...], tuple[Cluster, ...]]:
    top: list[str] = []
    # A trie over plate paths: path -> (names directly inside, child paths in first-seen order).
    members: dict[tuple[str, ...], list[str]] = {}
    children: dict[tuple[str, ...], list[tuple[str, ...]]] = {(): []}
    for node in nodes:
        if not node.plates:
            top.append(node.name)
            continue
        path = tuple(node.plates)
        for depth in range(1, len(path) + 1):
            prefix = path[:depth]
            if prefix not in members:
                members[prefix] = []
                children[prefix] = []
                children[prefix[:-1]].append(prefix)
        members[path].append(node.name)

    def build(path: tuple[str, ...]) -> Cluster:
        return Cluster(path[-1], path, tuple(members[path]), tuple(build(c) for c in children[path]))

    return tuple(top), tuple(build(path) for path in children[()])
