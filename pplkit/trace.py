"""The record of one run of a model: its sites, in the order they ran."""

from __future__ import annotations

import math
from typing import Any, Callable, Hashable, Iterator

import torch

from .distributions.util import scale_and_mask
from .runtime import Message, SiteKind
from .util import is_validation_enabled

__all__ = ["DuplicateSiteError", "Trace", "check_log_prob_shape", "compute_site_log_prob"]

SiteFilter = Callable[[str, Message], bool]
_NO_LOG_PROB = torch.zeros(())


class DuplicateSiteError(ValueError, RuntimeError):
    """Two sites of one run share a name.

    Pyro raises a RuntimeError here; pplkit raised a ValueError before. This error is
    both, so that code written for either library catches it.
    """


def _all_sites(name: str, site: Message) -> bool:
    return True


class Trace:
    """Sites recorded by the ``trace`` handler, by name, in execution order.

    Each site is the :class:`~pplkit.runtime.Message` that went through the handlers:
    ``site.kind``, ``site.value``, ``site.fn``, ``site.is_observed``,
    ``site.cond_indep_stack`` (its plates) and, after :meth:`compute_log_prob`,
    ``site.log_prob``. Pyro-style ``site["value"]`` reads work too.

    As in Pyro, a trace is also a directed graph over its sites: :meth:`add_edge`,
    :meth:`predecessors`, :meth:`successors`, :meth:`topological_sort`. The ``trace``
    handler fills the edges when asked for ``graph_type="dense"``; with the default
    ``"flat"`` the graph has no edges.
    """

    def __init__(self, graph_type: str = "flat") -> None:
        if graph_type not in ("flat", "dense"):
            raise ValueError(f"Trace: graph_type must be 'flat' or 'dense', got {graph_type!r}")
        self.graph_type = graph_type
        self.nodes: dict[str, Message] = {}
        # Edges, kept apart from the sites so that recording a site (the hot path) stays one dict write.
        self._succ: dict[Hashable, set[Hashable]] = {}
        self._pred: dict[Hashable, set[Hashable]] = {}

    def add_site(self, msg: Message) -> None:
        """Record ``msg``; a second sample site of the same name is an error."""
        existing = self.nodes.get(msg.name)
        if existing is not None:
            if existing is msg or (existing.kind is SiteKind.PARAM and msg.kind is SiteKind.PARAM):
                return  # a param may be read many times; it is one site
            raise DuplicateSiteError(_duplicate_message(existing, msg))
        self.nodes[msg.name] = msg

    def add_node(self, site_name: str, **fields: Any) -> None:
        """Record a site from Pyro's field names (``type``, ``fn``, ``value``, ``is_observed``, ...).

        Pyro's ``Trace.add_node``; inside pplkit the ``trace`` handler calls :meth:`add_site`.
        Unknown field names go into the site's ``infer`` dict, so nothing given is lost.

        Example::

            tr.add_node("z", type="sample", fn=dist.Normal(0.0, 1.0), value=torch.tensor(0.3))
        """
        fields.pop("name", None)
        kind_name = fields.pop("type", "sample")
        if kind_name not in ("sample", "param"):
            raise ValueError(f"add_node('{site_name}'): type must be 'sample' or 'param', got {kind_name!r}")
        kind = SiteKind.PARAM if kind_name == "param" else SiteKind.SAMPLE
        known = {f for f in Message.__dataclass_fields__ if f not in ("kind", "name")}
        msg = Message(kind=kind, name=site_name, **{k: v for k, v in fields.items() if k in known})
        msg.infer.update({k: v for k, v in fields.items() if k not in known})
        self.add_site(msg)

    # -- the graph over sites, as in Pyro -------------------------------------------------

    def add_edge(self, site1: Hashable, site2: Hashable) -> None:
        """Add the edge ``site1 -> site2``; a node that is not recorded yet is added first."""
        for site in (site1, site2):
            if site not in self.nodes:
                self.add_node(site)  # type: ignore[arg-type]
        self._succ.setdefault(site1, set()).add(site2)
        self._pred.setdefault(site2, set()).add(site1)

    @property
    def edges(self) -> Iterator[tuple[Hashable, Hashable]]:
        """Every edge as a ``(parent, child)`` pair."""
        for site, children in self._succ.items():
            for child in children:
                yield site, child

    def predecessors(self, site_name: Hashable) -> set[Hashable]:
        """The sites with an edge into ``site_name``."""
        if site_name not in self.nodes:
            raise KeyError(site_name)
        return self._pred.setdefault(site_name, set())

    def successors(self, site_name: Hashable) -> set[Hashable]:
        """The sites ``site_name`` has an edge to."""
        if site_name not in self.nodes:
            raise KeyError(site_name)
        return self._succ.setdefault(site_name, set())

    def remove_node(self, site_name: Hashable) -> None:
        """Remove a site and its edges."""
        del self.nodes[site_name]  # type: ignore[arg-type]
        for parent in self._pred.pop(site_name, ()):
            self._succ[parent].discard(site_name)
        for child in self._succ.pop(site_name, ()):
            self._pred[child].discard(site_name)

    def _dfs(self, site: Hashable, visited: set[Hashable]) -> Iterator[Hashable]:
        """The sites reachable from ``site`` and not in ``visited``, each after its successors."""
        if site in visited:
            return
        visited.add(site)
        # An explicit stack: a long chain of sites must not hit Python's recursion limit.
        stack = [(site, iter(self._succ.get(site, ())))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if child not in visited:
                    visited.add(child)
                    stack.append((child, iter(self._succ.get(child, ()))))
                    break
            else:
                stack.pop()
                yield node

    def topological_sort(self, reverse: bool = False) -> list[Hashable]:
        """The sites ordered so that every edge points forward (backward with ``reverse``)."""
        visited: set[Hashable] = set()
        finished: list[Hashable] = []
        for site in self.nodes:
            finished.extend(self._dfs(site, visited))
        return finished if reverse else finished[::-1]

    def add_dense_edges(self) -> None:
        """Add an edge into each sample site from every earlier one it may depend on.

        An earlier site may be a parent unless the two sit in different iterations of
        the same sequential plate. This is the graph Pyro's ``graph_type="dense"`` gives.
        """
        samples = [m for m in self.nodes.values() if m.kind.is_sample_like and m.kind is not SiteKind.PLATE]
        for i, msg in enumerate(samples):
            for past in samples[:i]:
                independent = any(
                    a.name == b.name and a.counter != b.counter
                    for a, b in zip(msg.cond_indep_stack, past.cond_indep_stack)
                )
                if not independent:
                    self.add_edge(past.name, msg.name)

    # -- mapping protocol over site names ----------------------------------------------

    def __contains__(self, name: object) -> bool:
        return name in self.nodes

    def __getitem__(self, name: str) -> Message:
        return self.nodes[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def sites(self, *kinds: SiteKind) -> list[Message]:
        """The recorded sites, optionally only those of the given kinds."""
        if not kinds:
            return list(self.nodes.values())
        return [m for m in self.nodes.values() if m.kind in kinds]

    # -- the questions inference asks -----------------------------------------------------

    @property
    def stochastic_nodes(self) -> list[str]:
        """Names of the latent sample sites."""
        return [n for n, m in self.nodes.items() if m.kind is SiteKind.SAMPLE and not m.is_observed]

    @property
    def observation_nodes(self) -> list[str]:
        """Names of the sites that score data: observed samples and factors."""
        return [
            n
            for n, m in self.nodes.items()
            if (m.kind is SiteKind.SAMPLE and m.is_observed) or m.kind is SiteKind.FACTOR
        ]

    @property
    def param_nodes(self) -> list[str]:
        return [n for n, m in self.nodes.items() if m.kind is SiteKind.PARAM]

    def iter_stochastic_nodes(self) -> Iterator[tuple[str, Message]]:
        """(name, site) of each latent sample site, in order (Pyro's spelling of :attr:`stochastic_nodes`)."""
        for name in self.stochastic_nodes:
            yield name, self.nodes[name]

    @property
    def reparameterized_nodes(self) -> list[str]:
        """Names of the latent sample sites whose distribution has ``rsample``."""
        return [n for n in self.stochastic_nodes if getattr(self.nodes[n].fn, "has_rsample", False)]

    @property
    def nonreparam_stochastic_nodes(self) -> list[str]:
        """Names of the latent sample sites drawn without a pathwise gradient."""
        reparameterized = set(self.reparameterized_nodes)
        return [n for n in self.stochastic_nodes if n not in reparameterized]

    def scored_sites(self) -> Iterator[Message]:
        """The sites that contribute to the log joint: samples and factors."""
        for msg in self.nodes.values():
            if msg.kind is SiteKind.SAMPLE or msg.kind is SiteKind.FACTOR:
                yield msg

    def compute_log_prob(self, site_filter: SiteFilter = _all_sites) -> None:
        """Fill ``site.log_prob`` (scaled and masked) and ``site.unscaled_log_prob``; errors name the site."""
        for msg in self.nodes.values():
            if msg.log_prob is not None or not site_filter(msg.name, msg):
                continue
            if msg.kind is SiteKind.SAMPLE or msg.kind is SiteKind.FACTOR:
                try:
                    compute_site_log_prob(msg)
                except ValueError as e:
                    raise _at_site(e, msg.name, "log_prob") from e
            elif msg.kind is SiteKind.PLATE:
                # A subsample draw scores nothing; the row keeps format_shapes as Pyro prints it.
                msg.log_prob = msg.unscaled_log_prob = _NO_LOG_PROB

    def log_prob_sum(self, site_filter: SiteFilter = _all_sites) -> torch.Tensor:
        """The log joint density of the recorded values: the sum over scored sites."""
        try:
            self.compute_log_prob(site_filter)
        except _SiteError as e:
            raise _at_site(e, e.site, "log_prob_sum") from e.__cause__
        total: torch.Tensor | float = 0.0
        for msg in self.scored_sites():
            if site_filter(msg.name, msg):
                assert msg.log_prob is not None
                total = total + msg.log_prob.sum()
        return total if isinstance(total, torch.Tensor) else torch.tensor(total)

    def nonfinite_sites(self) -> list[str]:
        """Names of the sites whose computed log density is NaN or infinite."""
        bad = []
        for msg in self.scored_sites():
            if msg.log_prob is not None and not bool(torch.isfinite(msg.log_prob).all()):
                bad.append(msg.name)
        return bad

    def copy(self) -> Trace:
        """A new trace holding the same site records."""
        new = Trace(graph_type=self.graph_type)
        new.nodes = dict(self.nodes)
        new._succ = {k: set(v) for k, v in self._succ.items()}
        new._pred = {k: set(v) for k, v in self._pred.items()}
        return new

    # -- display --------------------------------------------------------------------------

    def format_shapes(self, title: str = "Trace Shapes:", last_site: str | None = None) -> str:
        """A table of the shapes of every site, as in Pyro's tensor-shapes tutorial.

        For each sample site: the distribution's batch and event shape, the value's
        shape, and (after :meth:`compute_log_prob`) the log-prob shape. Batch dims are
        left of the ``|``, event dims right of it.
        """
        if not self.nodes:
            return title
        rows: list[list[str | None]] = [[title], ["Param Sites:"]]
        for name, msg in self.nodes.items():
            if msg.kind is SiteKind.PARAM:
                rows.append([name, None, *(str(s) for s in msg.value.shape)])
            if name == last_site:
                break
        rows.append(["Sample Sites:"])
        for name, msg in self.nodes.items():
            if msg.kind.is_sample_like:
                batch_shape = tuple(getattr(msg.fn, "batch_shape", ()))
                event_shape = tuple(getattr(msg.fn, "event_shape", ()))
                rows.append([name + " dist", None, *map(str, batch_shape), "|", None, *map(str, event_shape)])
                shape = tuple(getattr(msg.value, "shape", ()))
                split = len(shape) - len(event_shape)
                rows.append(["value", None, *map(str, shape[:split]), "|", None, *map(str, shape[split:])])
                if msg.log_prob is not None:
                    rows.append(["log_prob", None, *map(str, msg.log_prob.shape), "|", None])
            if name == last_site:
                break
        return _format_table(rows)

    def __repr__(self) -> str:
        return f"Trace({', '.join(f'{n}:{m.kind.value}' for n, m in self.nodes.items())})"


def compute_site_log_prob(msg: Message, role: str | None = None, max_plate_nesting: float = math.inf) -> None:
    """Fill a sample or factor site's ``log_prob`` (scaled, masked) and ``unscaled_log_prob``.

    A ValueError from the distribution (a value outside its support, say) is raised
    again with the site's name in front, and ``role`` ("model", "guide") before that
    when given, since torch's own message names only the distribution.

    With a ``role`` (inference is scoring the site) and validation on, the log_prob's
    shape is checked against the site's plates as Pyro's ELBOs do: inside a plate,
    every batch dim of size > 1 must be a plate's dim. Dims left of
    ``max_plate_nesting`` are not checked (an enumerating ELBO puts its dims there).

    Example::

        compute_site_log_prob(tr.nodes["x"], "model")   # ValueError: model site 'x': ...
    """
    try:
        log_p = msg.fn.log_prob(msg.value)
    except ValueError as e:
        where = f"{role} site" if role else "site"
        raise ValueError(f"{where} '{msg.name}': {e}") from e
    if role is not None and msg.cond_indep_stack and log_p.dim() and is_validation_enabled():
        check_log_prob_shape(msg, log_p, role, max_plate_nesting)
    msg.unscaled_log_prob = log_p
    msg.log_prob = scale_and_mask(log_p, msg.scale, msg.mask)


def check_log_prob_shape(msg: Message, log_p: torch.Tensor, role: str, max_plate_nesting: float = math.inf) -> None:
    """Raise when a site inside a plate has a log_prob dim of size > 1 that is no plate's dim.

    That dim means the value and the distribution broadcast against each other, e.g.
    data of shape (N, 1) (what ``df[["y"]].values`` gives) against a location of shape
    (N,) inside ``plate("data", N)``: every data point is scored under every location,
    N x N terms, and inference trains without error to a wrong posterior.

    Example::

        >>> import pplkit, pplkit.distributions as dist, torch
        >>> def model(y):
        ...     with pplkit.plate("data", 3):
        ...         pplkit.sample("y", dist.Normal(torch.zeros(3), 1.0), obs=y)
        >>> tr = pplkit.poutine.trace(model).get_trace(torch.zeros(3, 1))
        >>> check_log_prob_shape(tr.nodes["y"], tr.nodes["y"].fn.log_prob(tr.nodes["y"].value), "model")
        Traceback (most recent call last):
        ...
        ValueError: model site 'y': invalid log_prob shape (3, 3): ...
    """
    shape = log_p.shape
    stack = msg.cond_indep_stack
    if not any(f.dim is not None for f in stack):
        return
    for dim in range(-len(shape), 0):  # runs at every step for every site: no allocation on the way
        size = shape[dim]
        if size == 1 or -dim > max_plate_nesting:
            continue
        for frame in stack:
            if frame.dim == dim and (frame.size == size or frame.size < 0):  # < 0: a plate of any size
                break
        else:
            raise ValueError(_extra_dim_message(msg, shape, dim, role))


def _extra_dim_message(msg: Message, shape: torch.Size, dim: int, role: str) -> str:
    def show(s: tuple[int, ...] | torch.Size) -> str:
        return "(" + ", ".join(map(str, s)) + ("," if len(s) == 1 else "") + ")"

    plates = ", ".join(f"'{f.name}' (dim {f.dim}, size {f.size})" for f in msg.cond_indep_stack if f.dim is not None)
    value_shape = tuple(getattr(msg.value, "shape", ()))
    batch_shape = tuple(getattr(msg.fn, "batch_shape", ()))
    fixes = []
    if msg.is_observed and len(value_shape) >= 2 and value_shape[-1] == 1:
        fixes.append(
            "if the data is one column (as df[['y']].values gives), pass it as a vector: obs=y.squeeze(-1)"
        )
    fixes.append(f"if dim {dim} is part of one observation, declare it an event dim: .to_event(1)")
    fixes.append(f"if dim {dim} indexes data, put the site in a plate for it as well, e.g. plate(..., dim={dim})")
    return (
        f"{role} site '{msg.name}': invalid log_prob shape {show(shape)}: dim {dim} (size {shape[dim]}) is not "
        f"the dim of any of the site's plates [{plates}]. The value has shape {show(value_shape)} and the "
        f"distribution batch shape {show(batch_shape)}; they broadcast against each other, so each data point "
        "would be scored under every other's parameters and the fit would be wrong. Fix: "
        + "; or ".join(fixes)
        + "."
    )


def _format_table(rows: list[list[str | None]]) -> str:
    """Lay out rows of cells as Pyro does, so that the tables read the same.

    ``None`` splits a row into three groups: the name, the batch sizes with the ``|``
    bar, and the event sizes. The groups are aligned right, right and left, then every
    cell is right-justified in its column.
    """
    grouped = []
    for row in rows:
        groups: list[list[str]] = [[], [], []]
        g = 0
        for cell in row:
            if cell is None:
                g += 1
            else:
                groups[g].append(cell)
        grouped.append(groups)
    widths = [max(len(groups[g]) for groups in grouped) for g in range(3)]
    table = []
    for name, batch, event in grouped:
        pad = [""] * (widths[0] - len(name)) + name
        pad += [""] * (widths[1] - len(batch)) + batch
        pad += event + [""] * (widths[2] - len(event))
        table.append(pad)
    col_widths = [max(len(row[j]) for row in table) for j in range(len(table[0]))]
    return "\n".join(" ".join(c.rjust(w) for c, w in zip(row, col_widths)) for row in table)


def _duplicate_message(existing: Message, msg: Message) -> str:
    if existing.kind is SiteKind.PLATE and msg.kind is SiteKind.PLATE:
        return (
            f"plate '{msg.name}' was created twice in one run. Create it once and enter it as often as "
            f"you need: `{msg.name}_plate = plate('{msg.name}', ...)`, then `with {msg.name}_plate:` each time."
        )
    if existing.kind is not msg.kind:
        return (
            f"{msg.name} is already in the trace as a {existing.type}: the name '{msg.name}' is used by a "
            f"{existing.kind.value} site and a {msg.kind.value} site; every site in a model needs its own name"
        )
    return (
        f"Multiple {msg.kind.value} sites named '{msg.name}': two {msg.kind.value} sites are named '{msg.name}', "
        f"and every site in one run of a model needs its own name. In a Python loop use e.g. "
        f"f'{msg.name}_{{i}}', or vectorise the loop with a plate."
    )


class _SiteError(ValueError):
    """A ValueError that says at which site it arose (its ``site``), in Pyro's words."""

    site: str


def _at_site(error: ValueError, site: str, computing: str) -> _SiteError:
    # Pyro's opening ("Error while computing log_prob at site 'x':"), then pplkit's own
    # explanation without its repeated "site 'x':" prefix.
    detail = str(error.__cause__ if isinstance(error, _SiteError) and error.__cause__ else error)
    detail = detail.removeprefix(f"site '{site}': ")
    wrapped = _SiteError(f"Error while computing {computing} at site '{site}': {detail}")
    wrapped.site = site
    return wrapped

