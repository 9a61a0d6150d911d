"""``PyroModule``: a torch module whose attributes are params and random variables.

A ``PyroModule`` is an ordinary ``torch.nn.Module`` (``parameters()``,
``state_dict()``, ``requires_grad_``, ``torch.jit.trace`` all work) with two kinds of
attribute more:

* ``self.scale = PyroParam(init, constraints.positive)``: a constrained param. It is
  held unconstrained as ``self.scale_unconstrained`` (an ``nn.Parameter``) and read
  back constrained;
* ``self.weight = PyroSample(prior)``: a random variable, drawn with ``sample`` when
  the module runs (once per call: reading it twice in one ``forward`` gives one value).

While the module runs (inside ``module(...)``), every param it reads, its own
``nn.Parameter`` s included, is also a ``param`` site named by its path in the module
tree ("linear.weight"), so SVI, traces and handlers see it. The param store stays the
source of truth, as in Pyro: module and store hold the very same leaf tensor, and
when the store holds another one (after ``ParamStore.load``) the module takes it.
(``module(name, torch_module)`` for a plain torch module does so only when asked,
with ``update_module_params=True``, as Pyro's ``pyro.module``.)
"""

from __future__ import annotations

import copy
import functools
import warnings
from typing import Any, Callable, NamedTuple, TypeVar

import torch
from torch.distributions import Distribution, constraints, transform_to
from torch.distributions.constraints import Constraint

from ..handlers.lift import lift
from ..params import current_param_store
from ..primitives import deterministic, param, sample

__all__ = ["PyroModule", "PyroParam", "PyroSample", "module", "pyro_method", "random_module"]

Prior = Distribution | torch.Tensor | Callable[[Any], Distribution | torch.Tensor]


class PyroParam(NamedTuple):
    """Declares a module attribute a constrained param.

    Args:
        init_value: its initial constrained value, or a function returning it (called
            on first use). ``None`` takes the attribute's current value.
        constraint: where the value lies, e.g. ``constraints.positive``.
        event_dim: event dims, for params inside subsampled plates.

    Example::

        class Scaled(PyroModule):
            def __init__(self):
                super().__init__()
                self.scale = PyroParam(torch.ones(3), constraints.positive)
    """

    init_value: torch.Tensor | Callable[[], torch.Tensor] | None = None
    constraint: Constraint = constraints.real
    event_dim: int | None = None


class PyroSample(NamedTuple):
    """Declares a module attribute a random variable with prior ``prior``.

    ``prior`` is a distribution, or a function of the module returning one (for a
    prior that depends on other attributes: ``PyroSample(lambda self: dist.Normal(self.loc, 1))``).

    Example::

        model = PyroModule[nn.Linear](3, 1)
        model.weight = PyroSample(dist.Normal(0., 1.).expand([1, 3]).to_event(2))
    """

    prior: Prior


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


class _CallContext:
    """Shared by a tree of PyroModules: while any of them runs, each PyroSample is drawn once."""

    def __init__(self) -> None:
        self.depth = 0
        self.cache: dict[str, torch.Tensor] = {}

    @property
    def active(self) -> bool:
        return self.depth > 0

    def __enter__(self) -> None:
        self.depth += 1

    def __exit__(self, *exc: Any) -> None:
        self.depth -= 1
        if not self.depth:
            self.cache.clear()


class _PyroModuleMeta(type):
    """Lets ``PyroModule[nn.Linear]`` name a class that is both an ``nn.Linear`` and a PyroModule."""

    _mixins: dict[type, type] = {}

    def __getitem__(cls, torch_module: type[torch.nn.Module]) -> type[PyroModule]:
        if not (isinstance(torch_module, type) and issubclass(torch_module, torch.nn.Module)):
            raise TypeError(f"PyroModule[...] takes a torch.nn.Module class such as nn.Linear, got {torch_module!r}")
        if issubclass(torch_module, PyroModule):
            return torch_module
        made = _PyroModuleMeta._mixins.get(torch_module)
        if made is None:
            # The torch class first, so that its methods win; PyroModule after it, so that
            # its __getattr__/__setattr__ (which nn.Linear and friends do not define) apply.
            made = type(f"Pyro{torch_module.__name__}", (torch_module, PyroModule), {"__module__": __name__})
            _PyroModuleMeta._mixins[torch_module] = made
        return made


class PyroModule(torch.nn.Module, metaclass=_PyroModuleMeta):
    """A ``torch.nn.Module`` whose attributes can be ``PyroParam`` and ``PyroSample``.

    Args:
        name: the prefix of its site names; a submodule's is set from its parent's
            ("linear" in ``self.linear = PyroModule[nn.Linear](3, 1)``).

    Example::

        class BayesianRegression(PyroModule):
            def __init__(self):
                super().__init__()
                self.linear = PyroModule[nn.Linear](3, 1)
                self.linear.weight = PyroSample(dist.Normal(0., 1.).expand([1, 3]).to_event(2))

            def forward(self, x, y=None):
                mean = self.linear(x).squeeze(-1)
                with pyro.plate("data", len(x)):
                    return pyro.sample("obs", dist.Normal(mean, 1.0), obs=y)
    """

    def __init__(self, name: str = "") -> None:
        # Set before Module.__init__: nn.Linear's __init__ assigns Parameters through our __setattr__.
        self.__dict__["_pyro_name"] = name
        self.__dict__["_pyro_context"] = _CallContext()
        self.__dict__["_pyro_params"] = {}
        self.__dict__["_pyro_samples"] = {}
        super().__init__()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._pyro_context:
            return super().__call__(*args, **kwargs)

    # -- the module tree --------------------------------------------------------------------

    def _pyro_fullname(self, name: str) -> str:
        return _join(self.__dict__["_pyro_name"], name)

    def _pyro_set_supermodule(self, name: str, context: _CallContext) -> None:
        self.__dict__["_pyro_name"] = name
        self.__dict__["_pyro_context"] = context
        for key, child in self._modules.items():
            if isinstance(child, PyroModule):
                child._pyro_set_supermodule(_join(name, key), context)

    def add_module(self, name: str, module: torch.nn.Module | None) -> None:
        if isinstance(module, PyroModule):
            module._pyro_set_supermodule(self._pyro_fullname(name), self._pyro_context)
        super().add_module(name, module)

    # -- attributes ---------------------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, PyroParam):
            self._declare_param(name, value)
        elif isinstance(value, PyroSample):
            self._forget(name)
            self.__dict__["_pyro_samples"][name] = value
        else:
            if isinstance(value, PyroModule):
                value._pyro_set_supermodule(self._pyro_fullname(name), self._pyro_context)
            if name in self.__dict__.get("_pyro_params", ()) or name in self.__dict__.get("_pyro_samples", ()):
                self._forget(name)  # a plain value replaces the declaration
            super().__setattr__(name, value)

    def __getattr__(self, name: str) -> Any:
        pyro_params = self.__dict__.get("_pyro_params")
        if pyro_params is not None and name in pyro_params:
            return self._read_pyro_param(name, pyro_params[name])
        pyro_samples = self.__dict__.get("_pyro_samples")
        if pyro_samples is not None and name in pyro_samples:
            return self._draw(name, pyro_samples[name].prior)
        value = super().__getattr__(name)
        if isinstance(value, torch.nn.Parameter) and self.__dict__["_pyro_context"].active:
            value = self._read_torch_param(name, value)
        elif (
            isinstance(value, torch.nn.Module)
            and not isinstance(value, PyroModule)
            and self.__dict__["_pyro_context"].active
        ):
            module(self._pyro_fullname(name), value, update_module_params=True)  # the store wins, as for own params
        return value

    def __delattr__(self, name: str) -> None:
        if name in self.__dict__["_pyro_params"] or name in self.__dict__["_pyro_samples"]:
            self._forget(name)
        else:
            super().__delattr__(name)

    def _forget(self, name: str) -> None:
        """Drop whatever ``name`` is now: a declared param or sample, a Parameter or a plain attribute."""
        self.__dict__["_pyro_samples"].pop(name, None)
        if self.__dict__["_pyro_params"].pop(name, None) is not None:
            self._parameters.pop(name + "_unconstrained", None)
        if name in self._parameters:
            del self._parameters[name]
        elif name in self.__dict__ and not name.startswith("_pyro"):
            del self.__dict__[name]

    # -- params -------------------------------------------------------------------------------

    def _declare_param(self, name: str, spec: PyroParam) -> None:
        init = spec.init_value
        if init is None:
            if name not in self._parameters and not isinstance(self.__dict__.get(name), torch.Tensor):
                raise ValueError(
                    f"PyroParam for '{self._pyro_fullname(name)}' has no init_value and the module has no "
                    f"attribute '{name}' to start from; give one, e.g. PyroParam(torch.zeros(3))"
                )
            init = getattr(self, name).detach()
        self._forget(name)
        self.__dict__["_pyro_params"][name] = spec._replace(init_value=init)
        if isinstance(init, torch.Tensor):
            self._parameters[name + "_unconstrained"] = _unconstrained_parameter(init, spec.constraint)

    def _read_pyro_param(self, name: str, spec: PyroParam) -> torch.Tensor:
        key = name + "_unconstrained"
        local = self._parameters.get(key)
        if not self.__dict__["_pyro_context"].active:
            # Read outside a call (``module.scale`` in a notebook cell): no site, as in Pyro.
            leaf = self._synced_leaf(self._pyro_fullname(name), key, spec, create=False)
            return transform_to(spec.constraint)(leaf if leaf is not None else local)
        fullname = self._pyro_fullname(name)
        self._synced_leaf(fullname, key, spec, create=True)
        return param(fullname, None, spec.constraint, spec.event_dim)

    def _read_torch_param(self, name: str, value: torch.nn.Parameter) -> torch.Tensor:
        fullname = self._pyro_fullname(name)
        self._synced_leaf(fullname, name, PyroParam(value), create=True)
        return param(fullname, None, constraints.real, None)

    def _synced_leaf(self, fullname: str, key: str, spec: PyroParam, create: bool) -> torch.Tensor | None:
        """Make the module's ``key`` and the store's ``fullname`` one ``nn.Parameter``; the store wins."""
        store = current_param_store()
        local = self._parameters.get(key)
        if fullname in store:
            leaf = store.unconstrained(fullname)
            if leaf is not local:
                if not isinstance(leaf, torch.nn.Parameter):
                    leaf = torch.nn.Parameter(leaf.detach(), requires_grad=leaf.requires_grad)
                    store.adopt(fullname, leaf, store.constraint(fullname), store.event_dim(fullname))
                self._parameters[key] = leaf
            return leaf
        if not create:
            return None
        if local is None:  # a PyroParam whose init is a function, called on first use
            init = spec.init_value
            local = _unconstrained_parameter(init() if callable(init) else init, spec.constraint)  # type: ignore[arg-type]
            self._parameters[key] = local
        store.adopt(fullname, local, spec.constraint, spec.event_dim)
        return local

    # -- samples ------------------------------------------------------------------------------

    def _draw(self, name: str, prior: Prior) -> torch.Tensor:
        context: _CallContext = self.__dict__["_pyro_context"]
        if not context.active:
            # Outside a call there is no site to name: a fresh draw from the prior, as in Pyro.
            prior = _resolve(prior, self)
            if isinstance(prior, torch.Tensor):
                return prior
            return prior.rsample() if prior.has_rsample else prior.sample()
        fullname = self._pyro_fullname(name)
        value = context.cache.get(fullname)
        if value is None:
            prior = _resolve(prior, self)
            value = deterministic(fullname, prior) if isinstance(prior, torch.Tensor) else sample(fullname, prior)
            context.cache[fullname] = value
        return value


def _resolve(prior: Prior, owner: PyroModule) -> Distribution | torch.Tensor:
    if isinstance(prior, (Distribution, torch.Tensor)):
        return prior
    return prior(owner)


def _unconstrained_parameter(init: torch.Tensor, constraint: Constraint) -> torch.nn.Parameter:
    with torch.no_grad():
        value = transform_to(constraint).inv(torch.as_tensor(init).detach())
    return torch.nn.Parameter(value.clone().contiguous())


M = TypeVar("M", bound=torch.nn.Module)


def module(name: str, nn_module: M, update_module_params: bool = False) -> M:
    """Register the parameters of a torch module as params ``name$$$<param name>``, as ``pyro.module``.

    Run inside a model or guide, each parameter becomes a param site, so that SVI
    trains it. A new param holds the module's own tensor, so module and store share
    it. Where the store already holds another tensor under that name (after
    ``ParamStore.load``, or for a second module registered under one name), the module
    takes the store's only with ``update_module_params=True``, as in Pyro. A parameter
    with ``requires_grad=False`` is not registered (with a warning while the module is
    in training mode, as in Pyro).

    Example::

        baseline = nn.Linear(3, 1)
        module("baseline", baseline)
    """
    if isinstance(nn_module, type):
        raise TypeError(f"module('{name}', ...): pass an instance such as {nn_module.__name__}(...), not the class")
    if not isinstance(nn_module, torch.nn.Module):
        raise TypeError(f"module('{name}', ...): expected a torch.nn.Module, got {type(nn_module).__name__}")
    if "$$$" in name:
        raise ValueError(f"module('{name}', ...): a module name cannot contain '$$$', which separates it from params")
    store = current_param_store()
    for param_name, value in list(nn_module.named_parameters()):
        if not value.requires_grad:
            if nn_module.training:
                warnings.warn(
                    f"module('{name}', ...): {param_name} was not registered in the param store because "
                    "requires_grad=False; call my_module.train(False) to silence this warning",
                    stacklevel=2,
                )
            continue
        fullname = f"{name}$$${param_name}"
        if fullname not in store:
            store.adopt(fullname, value)
        returned = param(fullname, None)  # the store's tensor, or a draw under lift (random_module)
        if update_module_params and returned is not value:
            if returned is store.unconstrained(fullname) and not isinstance(returned, torch.nn.Parameter):
                returned = torch.nn.Parameter(returned.detach())
                store.adopt(fullname, returned)
            owner_path, _, key = param_name.rpartition(".")
            owner = nn_module.get_submodule(owner_path) if owner_path else nn_module
            owner._parameters[key] = returned  # type: ignore[assignment]  # a draw under lift, as in Pyro
    return nn_module


def random_module(name: str, nn_module: M, prior: Any, *args: Any, **kwargs: Any) -> Callable[[], M]:
    """Deprecated in Pyro (use ``PyroModule`` with ``PyroSample``): a sampler of modules.

    Returns a function that copies ``nn_module`` and replaces each parameter by a draw
    from ``prior`` (one distribution for all, or a dict of param name -> distribution,
    as for ``lift``). Kept so that older Pyro code runs; it warns with a FutureWarning
    as Pyro does.

    Example::

        sampler = random_module("net", nn.Linear(2, 1), dist.Normal(0.0, 1.0))
        net = sampler()  # its weight and bias drawn from Normal(0, 1)
    """
    warnings.warn(
        "random_module is deprecated, and will be removed in a future release (as in Pyro); use "
        "PyroModule with PyroSample attributes to make a Bayesian module from a torch module",
        FutureWarning,
        stacklevel=2,
    )
    lifted = lift(module, prior=prior)

    def sample_module() -> M:
        return lifted(name, copy.deepcopy(nn_module), *args, update_module_params=True, **kwargs)

    return sample_module


F = TypeVar("F", bound=Callable[..., Any])


def pyro_method(fn: F) -> F:
    """Run a method other than ``forward`` in the module's call context (PyroSamples drawn once).

    Example::

        class Model(PyroModule):
            @pyro_method
            def simulate(self, n): ...
    """

    @functools.wraps(fn)
    def in_context(self: PyroModule, *args: Any, **kwargs: Any) -> Any:
        with self._pyro_context:
            return fn(self, *args, **kwargs)

    return in_context  # type: ignore[return-value]
