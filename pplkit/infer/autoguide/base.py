"""What every autoguide shares: tracing the model once to learn its latent sites.

On its first call an autoguide runs the model under :class:`InitMessenger` (outside
every active handler, so that nothing around the first call changes what it sees) and
records, for each latent site, what a guide needs to know: its shape, support, the
bijection to unconstrained space and the plates it sits in. Subclasses turn that into
params and sample statements.

An autoguide is a :class:`~pplkit.nn.PyroModule`, hence a ``torch.nn.Module``, as in
Pyro: ``guide.parameters()``, ``state_dict()`` and ``requires_grad_(False)`` reach its
params, and a trained guide can be traced with ``torch.jit``. The param store stays
the source of truth: the module holds the store's own leaf tensors (as
``nn.Parameter`` s, under Pyro's paths such as ``locs.a``), re-read whenever the store
holds other ones (after ``ParamStore.load``). A name missing from the store (after
``clear_param_store``, or in a guide loaded with ``torch.load``) takes the module's own
value, as Pyro's modules do.
"""

from __future__ import annotations

import threading
import weakref
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import torch
from torch.distributions import Distribution, Transform, biject_to, constraints, transform_to
from torch.distributions.constraints import Constraint

from ..._compat import add_note
from ...handlers import trace
from ...nn.module import PyroModule
from ...params import current_param_store
from ...plate import plate
from ...runtime import Handler, Message, PlateFrame, SiteKind
from ...trace import Trace
from ..util import call_user_fn, tracing_for_structure
from .initialization import InitFn, InitMessenger, discrete_site_error, init_to_median

__all__ = ["AutoGuide", "LatentSite"]

_NO_PLATES = nullcontext()  # reusable: entering it does nothing


@dataclass(frozen=True, eq=False)
class LatentSite:
    """A latent sample site of the model, as an autoguide sees it.

    Attributes:
        name: the site's name.
        fn: its prior in the prototype run, broadcast to its plates.
        support: the prior's support.
        transform: ``biject_to(support)``, from unconstrained space onto the support.
        event_dim: event dims of the constrained value.
        init: the constrained initial value (from ``init_loc_fn``).
        init_unconstrained: ``transform.inv(init)``.
        unconstrained_event_dim: event dims of the unconstrained value (differ from
            ``event_dim`` for e.g. simplex sites).
        frames: the vectorised plates the site is in, outermost first.
    """

    name: str
    fn: Distribution
    support: Constraint
    transform: Transform
    event_dim: int
    init: torch.Tensor
    init_unconstrained: torch.Tensor
    unconstrained_event_dim: int
    frames: tuple[PlateFrame, ...]

    @property
    def is_real(self) -> bool:
        """True when the support is all of R^n, so the transform is the identity."""
        support = self.support
        while isinstance(support, constraints.independent):
            support = support.base_constraint
        return type(support) is type(constraints.real)

    @property
    def is_subsampled(self) -> bool:
        return any(f.size != f.full_size for f in self.frames)


class AutoGuide(PyroModule):
    """Base class of the automatic guides.

    Args:
        model: the model to build a guide for.
        init_loc_fn: picks each latent site's starting point (see ``initialization``).
        create_plates: optionally a function of the model's arguments returning the
            plate(s) the guide should use (e.g. with your own subsample indices).

    Subclasses implement :meth:`_setup_sites` and :meth:`forward`. A model without
    latent sites gets a guide that samples nothing, so that SVI fits the model's own
    params (as in Pyro); the packed-vector guides (``AutoContinuous``) raise
    ``RuntimeError`` for it instead, as Pyro's do.
    """

    _needs_latents = False  # AutoContinuous: a model without latents is an error, as in Pyro
    # Guides that keep values in the support itself (AutoDelta's constrained params) take
    # supports with no bijection from R^n, such as the sphere; the others need one.
    _needs_bijection = True

    def __init__(
        self,
        model: Callable[..., Any],
        *,
        init_loc_fn: InitFn = init_to_median,
        create_plates: Callable[..., plate | Iterable[plate]] | None = None,
    ) -> None:
        if not callable(model):
            raise TypeError(f"{type(self).__name__}(model): model must be a callable, got {type(model).__name__}")
        super().__init__(name=type(self).__name__)
        # In a tuple, so that a PyroModule model is not registered as a submodule of its guide.
        self._model = (model,)
        self.init_loc_fn = init_loc_fn
        self.create_plates = create_plates
        self.prototype_trace: Trace | None = None
        self.sites: dict[str, LatentSite] = {}
        self._plate_frames: dict[str, PlateFrame] = {}
        self._setup_lock = threading.Lock()
        # (param name, the dict of the submodule holding it, its key there), for the sync check.
        self._param_slots: list[tuple[str, dict[str, Any], str]] = []
        self._param_slots_known = False
        # Set by AutoGuideList while this guide runs as one of its parts: the list's plates, made once.
        self._shared_plates: dict[str, plate] | None = None
        self._parent: tuple[AutoGuide, ...] = ()  # the list holding this part (a tuple: not a submodule)

    @property
    def master(self) -> weakref.ReferenceType[AutoGuide] | None:
        """As Pyro's: None for a guide of its own, else a reference to the outermost list it is part of."""
        if not self._parent:
            return None
        top = self._parent[0]
        while top._parent:
            top = top._parent[0]
        return weakref.ref(top)

    def __getstate__(self) -> dict[str, Any]:
        # torch.save pickles the guide: a lock cannot be pickled, and a fresh one does the same job.
        state = super().__getstate__()
        state = dict(state)
        del state["_setup_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._setup_lock = threading.Lock()
        self._param_slots_known = False  # the loaded params join the store at the next call

    @property
    def model(self) -> Callable[..., Any]:
        return self._model[0]

    @property
    def prefix(self) -> str:
        """The start of this guide's param names, as Pyro's: the class name (``AutoGuideList.0`` in a list)."""
        return self._pyro_name

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        """Draw one sample of every latent site; returns ``{name: constrained value}``."""
        # In the module's call context, as any PyroModule: a subclass's own nn.Parameters and
        # PyroParams read in forward() become params SVI trains.
        with self._pyro_context:
            if self.prototype_trace is None:
                self._setup(args, kwargs)
            if not self.sites:
                return {}
            if not self._params_in_sync():
                with _AdoptGuideParams(self):
                    result = self.forward(*args, **kwargs)
                self._param_slots_known = True
                return result
            return self.forward(*args, **kwargs)

    def call(self, *args: Any, **kwargs: Any) -> tuple[torch.Tensor, ...]:
        """The guide's sample as a tuple sorted by site name, as Pyro's (for ``torch.jit`` tracing)."""
        return tuple(value for _, value in sorted(self(*args, **kwargs).items()))

    # -- the module's view of the store -------------------------------------------------------

    def _params_in_sync(self) -> bool:
        """True when every param of this guide is in the store as the very tensor the module holds."""
        if not self._param_slots_known:
            return False
        store = current_param_store()
        try:
            for name, owner_params, key in self._param_slots:
                if store.unconstrained(name) is not owner_params[key]:
                    return False
        except KeyError:
            return False
        return True

    def _hold_param(self, name: str, leaf: torch.nn.Parameter) -> None:
        """Register ``leaf`` in the module tree at its path below the prefix (``locs.a``, ``loc``)."""
        if any(held is leaf for held in self.parameters()):
            return  # held already: a subclass's own Parameter or PyroParam (one tensor, one place, for torch.jit)
        path = name[len(self.prefix) + 1 :].split(".")
        owner: torch.nn.Module = self
        for part in path[:-1]:
            child = owner._modules.get(part)
            if child is None:
                if part in owner._parameters or part in owner.__dict__:
                    return  # the path is taken by something else: the store alone holds this param
                child = ParamGroup()
                owner._modules[part] = child
            owner = child
        key = path[-1]
        if key in owner.__dict__ or hasattr(type(owner), key) or key in owner._modules:
            return  # a site named like an attribute of the guide ("sites", "model"): the store alone holds it
        owner._parameters[key] = leaf
        self._param_slots = [slot for slot in self._param_slots if slot[0] != name]
        self._param_slots.append((name, owner._parameters, key))

    def _held_param(self, name: str) -> torch.nn.Parameter | None:
        """The module's own parameter for the store name ``name``, if it holds one."""
        for slot_name, owner_params, key in self._param_slots:
            if slot_name == name:
                held = owner_params.get(key)
                return held if isinstance(held, torch.nn.Parameter) else None
        return None

    def forward(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def median(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        """The posterior median of each latent site (constrained)."""
        raise NotImplementedError

    def quantiles(
        self, quantiles: Sequence[float] | torch.Tensor, *args: Any, **kwargs: Any
    ) -> dict[str, torch.Tensor]:
        """Posterior quantiles of each latent site: a tensor of shape ``(len(quantiles), *site shape)``."""
        raise NotImplementedError

    # -- tracing the model once -------------------------------------------------------------

    def _trace_model_once(self, args: tuple[Any, ...], kwargs: dict[str, Any],
                          init_loc_fn: InitFn | None = None) -> Trace:
        """One run of the model, as every guide's ``_setup`` reads its structure from it."""
        init = InitMessenger(init_loc_fn) if init_loc_fn is not None else nullcontext()
        with tracing_for_structure(), trace() as tracer, init:
            call_user_fn(self.model, f"model (traced by {type(self).__name__})", args, kwargs)
        return tracer.trace

    def _setup(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        with self._setup_lock:
            if self.prototype_trace is not None:
                return
            prototype = self._trace_model_once(args, kwargs, self.init_loc_fn)
            sites = {}
            for msg in prototype.nodes.values():
                if msg.kind is SiteKind.SAMPLE and not msg.is_observed:
                    sites[msg.name] = self._describe_site(msg)
            if not sites and self._needs_latents:
                raise RuntimeError(
                    f"{type(self).__name__} found no latent sample sites in the model, so its joint latent vector "
                    "would be empty; use AutoNormal or AutoDelta (which then sample nothing) or an empty guide"
                )
            self.sites = sites
            self._plate_frames = {f.name: f for s in sites.values() for f in s.frames}
            if sites:
                self._setup_sites()
            self.prototype_trace = prototype  # last: other threads then see a finished guide

    def _describe_site(self, msg: Any) -> LatentSite:
        fn = msg.fn
        for frame in msg.cond_indep_stack:
            if frame.dim is None:
                raise ValueError(
                    f"{type(self).__name__}: site '{msg.name}' is inside the sequential plate '{frame.name}' "
                    f"(`for i in plate(...)`); autoguides need vectorised plates: `with plate('{frame.name}', ...)`"
                )
        try:
            transform = biject_to(fn.support)
        except NotImplementedError:
            if fn.support.is_discrete:
                raise discrete_site_error(msg.name, fn, type(self).__name__) from None
            if self._needs_bijection and "sphere" not in repr(fn.support).lower():
                raise
            if self._needs_bijection:
                raise ValueError(
                    f"{type(self).__name__}: site '{msg.name}' lives on the sphere ({type(fn).__name__}), which has "
                    "no unconstrained coordinates for a continuous guide to fit. Reparameterise it: "
                    f"poutine.reparam(model, config={{'{msg.name}': ProjectedNormalReparam()}}) "
                    "(from pplkit.infer.reparam), with a ProjectedNormal prior"
                ) from None
            transform = transform_to(fn.support)
        value = msg.value.detach()
        unconstrained = transform.inv(value).detach()
        return LatentSite(
            name=msg.name,
            fn=fn,
            support=fn.support,
            transform=transform,
            event_dim=len(fn.event_shape),
            init=value,
            init_unconstrained=unconstrained,
            unconstrained_event_dim=len(fn.event_shape) + unconstrained.dim() - value.dim(),
            frames=tuple(msg.cond_indep_stack),
        )

    def _setup_sites(self) -> None:
        """Create what the guide needs per site (param names, inits); called once."""

    def _adopt_prototype(self, other: AutoGuide) -> None:
        """Take the model description another guide of the same model already traced."""
        if other.prototype_trace is None:
            raise RuntimeError(f"{type(other).__name__} has not traced the model yet; call it once first")
        with self._setup_lock:
            self.sites = other.sites
            self._plate_frames = other._plate_frames
            self._setup_sites()
            self.prototype_trace = other.prototype_trace

    def _require_setup(self, args: tuple[Any, ...], kwargs: dict[str, Any], what: str) -> None:
        """Trace the model now if the guide has not run yet (``what`` needs its sites)."""
        if self.prototype_trace is not None:
            return
        try:
            self._setup(args, kwargs)
        except TypeError as e:
            add_note(
                e,
                f"{type(self).__name__}.{what}() traces the model first when the guide has not run yet: pass the "
                f"model's arguments, guide.{what}(data), or call the guide (or svi.step) once before"
            )
            raise

    # -- plates -------------------------------------------------------------------------------

    def _create_plates(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, plate]:
        """One fresh plate per plate of the model (or the user's, from ``create_plates``); none without plates."""
        if self._shared_plates is not None:
            return self._shared_plates
        plates: dict[str, plate] = {}
        if not self._plate_frames:
            return plates
        if self.create_plates is not None:
            made = self.create_plates(*args, **kwargs)
            for p in [made] if isinstance(made, plate) else list(made):
                if not isinstance(p, plate):
                    raise TypeError(f"create_plates must return plates, got {type(p).__name__}")
                plates[p.name] = p
        for name, frame in self._plate_frames.items():
            if name not in plates:
                plates[name] = plate(name, frame.full_size, subsample_size=frame.size, dim=frame.dim)
        return plates

    @staticmethod
    def _enter(plates: dict[str, plate], frames: tuple[PlateFrame, ...]) -> AbstractContextManager[Any]:
        """The site's plates, entered together; a shared no-op for a site outside every plate."""
        if not frames:
            return _NO_PLATES
        stack = ExitStack()
        for frame in frames:
            stack.enter_context(plates[frame.name])
        return stack

    # -- params -------------------------------------------------------------------------------

    def _stored(
        self, name: str, init: torch.Tensor, constraint: Constraint, event_dim: int | None = None
    ) -> torch.Tensor:
        """A param's current constrained value, read without sending a message."""
        store = current_param_store()
        if name not in store:
            held = self._held_param(name)
            if held is not None:  # a loaded guide, not yet called: its own values, not the init
                store.adopt(name, held, constraint, event_dim)
        return store.get_param(name, init, constraint, event_dim)


class ParamGroup(torch.nn.Module):
    """A node of a guide's module tree (``guide.locs``, ``guide.scales``) holding its params.

    As in Pyro, assigning a plain tensor to a param (``guide.locs.x = torch.tensor(1.0)``)
    sets its constrained value: the param's leaf, shared with the store, is overwritten in
    place, so the store, the optimizer and every guide reading that name see the new value.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        held = self.__dict__.get("_parameters", {}).get(name)
        if held is None or not isinstance(value, torch.Tensor) or isinstance(value, torch.nn.Parameter):
            super().__setattr__(name, value)
            return
        store = current_param_store()
        constraint = next(
            (store.constraint(n) for n, leaf in store.named_parameters() if leaf is held), constraints.real
        )
        with torch.no_grad():
            unconstrained = transform_to(constraint).inv(value.detach().to(held.dtype))
            held.data = torch.broadcast_to(unconstrained, held.shape).clone() if held.dim() else unconstrained.clone()


class _AdoptGuideParams(Handler):
    """While a guide runs, make each of its params an ``nn.Parameter`` held by store and module alike.

    It sees the param message before the store is read, so the value the guide computes
    with comes from the ``nn.Parameter`` itself and the first gradient lands on it.
    """

    def __init__(self, guide: AutoGuide) -> None:
        super().__init__()
        self.guide = guide
        self.start = guide.prefix + "."

    def process(self, msg: Message) -> None:
        if msg.kind is not SiteKind.PARAM or not msg.name.startswith(self.start) or "$$$" in msg.name:
            return  # "$$$": a torch module's weight (pplkit.module), which that module holds already
        store = current_param_store()
        name = msg.name
        if name not in store:
            init, constraint, event_dim = msg.args
            held = self.guide._held_param(name)
            if held is not None:  # a loaded (torch.load) or restored guide: its own values win over the init
                store.adopt(name, held, constraint, event_dim)
            else:
                store.get_param(name, init, constraint, event_dim)  # validates the init, as any param
        leaf = store.unconstrained(name)
        if not isinstance(leaf, torch.nn.Parameter):
            leaf = torch.nn.Parameter(leaf.detach(), requires_grad=leaf.requires_grad)
            store.adopt(name, leaf, store.constraint(name), store.event_dim(name))
        self.guide._hold_param(name, leaf)


def repeat_to_full_size(value: torch.Tensor, site: LatentSite, event_dim: int) -> torch.Tensor:
    """Tile a value drawn for a subsample until it covers each subsampled plate's full size."""
    for frame in site.frames:
        if frame.size == frame.full_size:
            continue
        assert frame.dim is not None
        dim = frame.dim - event_dim
        reps = -(-frame.full_size // frame.size)
        repeats = [1] * value.dim()
        repeats[dim] = reps
        value = value.repeat(repeats).narrow(dim, 0, frame.full_size)
    return value.contiguous()


def quantile_tensor(quantiles: Sequence[float] | torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """The requested quantiles as a column, shaped to broadcast against ``like``."""
    q = torch.as_tensor(quantiles, dtype=like.dtype, device=like.device)
    if q.dim() != 1 or not bool(((q > 0) & (q < 1)).all()):
        raise ValueError(f"quantiles must be a list of numbers strictly between 0 and 1, got {quantiles!r}")
    return q.reshape((-1,) + (1,) * like.dim())


def check_init_scale(guide: object, init_scale: Any) -> float:
    """``init_scale`` as a float, or a ValueError naming the guide when it is not positive."""
    if isinstance(init_scale, bool) or not isinstance(init_scale, (int, float)) or not init_scale > 0:
        raise ValueError(f"{type(guide).__name__}: init_scale must be a positive number, got {init_scale!r}")
    return float(init_scale)
