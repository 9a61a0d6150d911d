"""The param store: named, learnable tensors with constraints.

A constrained param (say ``constraint=positive``) is kept as an unconstrained leaf
tensor ``u`` and handed out as ``transform_to(constraint)(u)``, so that an optimizer
can move ``u`` freely and the model always sees a valid value.

There is one default store, as in Pyro, plus ``use_param_store(store)`` to give one
thread (a widget's training thread, say) a store of its own.
"""

from __future__ import annotations

import io
import os
import sys
import threading
import warnings
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
from torch.distributions import constraints, transform_to
from torch.distributions.constraints import Constraint

from .util import write_atomically

__all__ = [
    "ParamStore",
    "clear_param_store",
    "current_param_store",
    "get_param_store",
    "module_from_param_with_module_name",
    "param_with_module_name",
    "register_constraint",
    "use_param_store",
    "user_param_name",
]

_FORMAT = "pplkit-param-store"
_VERSION = 1

Init = torch.Tensor | float | Callable[[], torch.Tensor] | None


class ParamStore:
    """Named params, stored unconstrained, returned constrained.

    Example::

        store = get_param_store()
        store.get_param("sigma", torch.tensor(1.0), constraints.positive)
        store["sigma"]          # tensor(1., grad_fn=...)
        store.save("fit.pt"); store.load("fit.pt")
    """

    def __init__(self) -> None:
        self._params: dict[str, torch.Tensor] = {}
        self._constraints: dict[str, Constraint] = {}
        self._event_dims: dict[str, int | None] = {}
        self._lock = threading.RLock()

    # -- reading and writing -------------------------------------------------------

    def get_param(
        self,
        name: str,
        init: Init = None,
        constraint: Constraint | None = None,
        event_dim: int | None = None,
    ) -> torch.Tensor:
        """The constrained value of ``name``, created from ``init`` the first time.

        As Pyro's tutorial states it: once a param exists, a call with its name returns
        the stored value "regardless of any other arguments". A bare ``get_param(name)``
        never raises for an existing param; a call that explicitly asks for another
        constraint, or gives an init of another shape, warns (naming the param and both
        values) and still returns the stored value. ``constraint=None`` means "not
        given": ``real`` when creating, whatever is stored when reading.

        Example::

            store = ParamStore()
            store.get_param("sigma", torch.tensor(2.0), constraints.positive)
            store.get_param("sigma")  # tensor(2.0000, grad_fn=...), still positive
        """
        unconstrained = self._params.get(name)
        if unconstrained is None:
            return self._create(name, init, constraints.real if constraint is None else constraint, event_dim)
        stored = self._constraints[name]
        if constraint is not None and constraint is not stored and not _same_constraint(constraint, stored):
            warnings.warn(
                f"param '{name}' was created with constraint {_describe(stored)}; this call declares "
                f"{_describe(constraint)}, which is ignored: the stored value is returned (as in Pyro). "
                f"Call clear_param_store() (or get_param_store().pop('{name}')) to start the param afresh",
                stacklevel=_caller_level(),
            )
        if isinstance(init, torch.Tensor) and init.shape != unconstrained.shape:
            self._check_shape(name, init, stored)
        return _constrain(unconstrained, stored)

    def _check_shape(self, name: str, init: torch.Tensor, constraint: Constraint) -> None:
        # The unconstrained shape can differ from the constrained one (a simplex has one
        # entry fewer), so compare with the value the model sees.
        existing = _constrain(self._params[name], constraint)
        if init.shape != existing.shape:
            warnings.warn(
                f"param '{name}' already exists with shape {tuple(existing.shape)}, but this call's init has shape "
                f"{tuple(init.shape)}; the init is ignored and the stored value returned (as in Pyro). Call "
                f"clear_param_store() (or get_param_store().pop('{name}')) after changing a model, or give the "
                "param a new name",
                stacklevel=_caller_level(),
            )

    def _create(self, name: str, init: Init, constraint: Constraint, event_dim: int | None) -> torch.Tensor:
        unconstrained = _unconstrain(name, init, constraint)
        with self._lock:
            self._params[name] = unconstrained
            self._constraints[name] = constraint
            self._event_dims[name] = event_dim
        return _constrain(unconstrained, constraint)

    def setdefault(self, name: str, init: Init, constraint: Constraint = constraints.real) -> torch.Tensor:
        """Pyro's ``ParamStore.setdefault``: the stored value if ``name`` exists, else create it.

        Unlike :meth:`get_param`, an existing param's other constraint is not remarked on:
        ``setdefault`` says "whatever is there", as ``dict.setdefault`` does.

        Example::

            store = ParamStore()
            store.setdefault("s", torch.ones(2), constraints.positive)
            store.setdefault("s", torch.zeros(2))  # tensor([1., 1.], grad_fn=...)
        """
        if name in self._params:
            return self[name]
        return self._create(name, init, constraint, None)

    @contextmanager
    def scope(self, state: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Use a separate set of params inside a ``with`` block (Pyro's ``ParamStore.scope``).

        The store starts the block empty, or holding ``state`` (a scope yielded before);
        on leaving, the block's params are written back into the yielded state and the
        params from before the block are restored.

        Example::

            store = get_param_store()
            with store.scope() as first:
                pplkit.param("x", torch.zeros(2))  # not seen outside the block
            with store.scope(first):
                pplkit.param("x")                   # tensor([0., 0.], ...)
        """
        if state is None:
            state = ParamStore().get_state()
        old = (self._params, self._constraints, self._event_dims)
        try:
            self.set_state(state)
            yield state
            state.update(self.get_state())
        finally:
            with self._lock:
                self._params, self._constraints, self._event_dims = old

    @property
    def _param_to_name(self) -> dict[torch.Tensor, str]:
        # Pyro's reverse index (a tensor hashes by identity), derived rather than kept in step.
        return {leaf: name for name, leaf in self._params.items()}

    def __getitem__(self, name: str) -> torch.Tensor:
        """The constrained value of an existing param."""
        if name not in self._params:
            raise KeyError(
                f"param '{name}' is not in the param store (it has: {sorted(self._params)}); run the model "
                "or guide that creates it (one svi.step) or load a saved store first"
            )
        return self.get_param(name, constraint=self._constraints[name])

    def __setitem__(self, name: str, value: torch.Tensor) -> None:
        """Set a param's constrained value, keeping its constraint (``real`` if new)."""
        constraint = self._constraints.get(name, constraints.real)
        unconstrained = _unconstrain(name, value, constraint)  # may raise: nothing changed yet
        with self._lock:
            self._params[name] = unconstrained
            self._constraints[name] = constraint
            self._event_dims.setdefault(name, None)

    def pop(self, name: str) -> torch.Tensor | None:
        """Remove a param; returns its constrained value, or None if it was absent."""
        with self._lock:
            if name not in self._params:
                return None
            value = self[name].detach()
            del self._params[name], self._constraints[name], self._event_dims[name]
            return value

    def __delitem__(self, name: str) -> None:
        if self.pop(name) is None:
            raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return name in self._params

    def __len__(self) -> int:
        return len(self._params)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._params))

    def keys(self) -> list[str]:
        return list(self._params)

    def values(self) -> list[torch.Tensor]:
        return [self[name] for name in self._params]

    def items(self) -> list[tuple[str, torch.Tensor]]:
        """(name, constrained value) pairs, in creation order."""
        return [(name, self[name]) for name in list(self._params)]

    def unconstrained(self, name: str) -> torch.Tensor:
        """The leaf tensor an optimizer updates."""
        return self._params[name]

    def adopt(
        self, name: str, leaf: torch.Tensor, constraint: Constraint = constraints.real, event_dim: int | None = None
    ) -> None:
        """Hold ``leaf`` itself as the unconstrained tensor of ``name`` (no copy).

        ``PyroModule`` and the autoguides use this so that a module's ``nn.Parameter``
        and the store's entry are one tensor: an optimizer stepping either moves both.
        """
        if not leaf.is_leaf:
            raise ValueError(f"param '{name}': adopt needs a leaf tensor (a parameter), not the result of an operation")
        _answers_unconstrained(leaf)
        with self._lock:
            self._params[name] = leaf
            self._constraints[name] = constraint
            self._event_dims[name] = event_dim

    def named_parameters(self) -> list[tuple[str, torch.Tensor]]:
        """(name, unconstrained leaf tensor) pairs."""
        return list(self._params.items())

    def constraint(self, name: str) -> Constraint:
        return self._constraints[name]

    def event_dim(self, name: str) -> int | None:
        return self._event_dims[name]

    def clear(self) -> None:
        with self._lock:
            self._params.clear()
            self._constraints.clear()
            self._event_dims.clear()

    # -- saving and loading ----------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        """A plain, ``weights_only``-loadable snapshot: tensors, strings and numbers."""
        params = {}
        for name, u in self._params.items():
            params[name] = {
                "unconstrained": u.detach().clone(),
                "constraint": _constraint_to_spec(name, self._constraints[name]),
                "event_dim": self._event_dims[name],
            }
        return {"format": _FORMAT, "version": _VERSION, "params": params}

    def set_state(self, state: dict[str, Any]) -> None:
        """Replace the contents with a snapshot from :meth:`get_state`; all or nothing."""
        new = _parse_state(state)
        with self._lock:
            self._params, self._constraints, self._event_dims = new

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the store to ``path`` atomically: a reader sees the old file or the new one.

        The file gets the mode any program's new file gets (0o666 less the umask), so a
        class can read the file its teacher saved.
        """
        buffer = io.BytesIO()
        torch.save(self.get_state(), buffer)
        path = Path(path)
        try:
            write_atomically(path, buffer.getvalue())
        except OSError as e:
            # The error names the hidden temporary file; the user asked for ``path``.
            raise type(e)(e.errno, _save_problem(path, e)) from e

    def load(self, path: str | os.PathLike[str], map_location: Any = None) -> None:
        """Replace the store's contents with a file written by :meth:`save`.

        Loads with ``torch.load(weights_only=True)``, so a file cannot run code. On any
        error the store keeps what it held.
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(
                f"no param-store file at {str(path)!r}; write one with get_param_store().save(path)"
            )
        try:
            data = path.read_bytes()
        except PermissionError as e:
            raise PermissionError(
                e.errno,
                f"no permission to read the param-store file {str(path)!r}; ask its owner to make it readable "
                f"(chmod a+r {str(path)!r}) or to save it again with this pplkit, which writes files others can read",
            ) from e
        except OSError as e:
            raise type(e)(e.errno, f"could not read the param-store file {str(path)!r}: {e.strerror}") from e
        try:
            state = torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
        except Exception as e:
            raise ValueError(
                f"could not read {str(path)!r} as a pplkit param-store file (truncated, corrupt, or not written "
                f"by ParamStore.save; files that would run code are refused): {type(e).__name__}: "
                f"{str(e).splitlines()[0] if str(e) else ''}. Ask for the file again, written by "
                "get_param_store().save(path)"
            ) from e
        try:
            self.set_state(state)
        except ValueError as e:
            raise ValueError(f"{str(path)!r}: {e}") from e


def _caller_level() -> int:
    """The ``stacklevel`` that points a warning at the user's code, past pplkit's own frames."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("pplkit."):
        frame, level = frame.f_back, level + 1  # type: ignore[assignment]
    return level


def _constrain(unconstrained: torch.Tensor, constraint: Constraint) -> torch.Tensor:
    """``transform_to(constraint)(unconstrained)``, with shortcuts for the common constraints.

    Params are read at every SVI step; ``transform_to(positive)`` is exp followed by an
    identity affine map, so plain ``exp`` gives the same value 8x faster.
    """
    if constraint is constraints.real:
        return unconstrained  # a leaf: it answers ``.unconstrained()`` from birth (_answers_unconstrained)
    if constraint is constraints.positive:
        value = unconstrained.exp()
    else:
        value = transform_to(constraint)(unconstrained)
    # Pyro's params answer ``value.unconstrained()`` with their leaf; a weak reference,
    # so that a value kept by the user does not keep a popped param alive.
    value.unconstrained = LeafRef(unconstrained)  # type: ignore[attr-defined]
    return value


def _unconstrain(name: str, init: Init, constraint: Constraint) -> torch.Tensor:
    """A fresh leaf tensor holding ``init`` mapped to unconstrained space."""
    if init is None:
        raise KeyError(f"param '{name}' is not in the param store; give an init value to create it")
    if callable(init) and not isinstance(init, torch.Tensor):
        init = init()
    value = torch.as_tensor(init, dtype=None if isinstance(init, torch.Tensor) else torch.get_default_dtype())
    value = value.detach()
    if not value.is_floating_point():
        raise TypeError(
            f"param '{name}': init must be a floating-point tensor, got dtype {value.dtype}; "
            "write e.g. torch.tensor(1.0) rather than torch.tensor(1), or pass init.float()"
        )
    _check_support(name, value, constraint)
    with torch.no_grad():
        unconstrained = transform_to(constraint).inv(value).clone().contiguous()
    return _answers_unconstrained(unconstrained.requires_grad_(True))


def _answers_unconstrained(leaf: torch.Tensor) -> torch.Tensor:
    """Give a leaf Pyro's ``.unconstrained()``, for the reads where the value is the leaf itself."""
    leaf.unconstrained = LeafRef(leaf)  # type: ignore[attr-defined]
    return leaf


class LeafRef:
    """What ``value.unconstrained`` holds: a weak reference to the param's leaf that survives pickling.

    ``torch.save`` of a module pickles each parameter's attributes, and a plain
    ``weakref.ref`` cannot be pickled. The pickled reference comes back empty (calling
    it gives None): the store binds a fresh one when it adopts the loaded leaf.
    """

    __slots__ = ("_ref",)

    def __init__(self, leaf: torch.Tensor | None = None) -> None:
        self._ref = None if leaf is None else weakref.ref(leaf)

    def __call__(self) -> torch.Tensor | None:
        return None if self._ref is None else self._ref()

    def __reduce__(self) -> tuple[type, tuple[()]]:
        return (LeafRef, ())


def _check_support(name: str, value: torch.Tensor, constraint: Constraint) -> None:
    try:
        ok = bool(constraint.check(value).all())
    except Exception:  # constraints that cannot check a value of this shape
        ok = True
    if not ok:
        shown = value.tolist() if value.numel() <= 6 else f"a tensor of shape {tuple(value.shape)}"
        raise ValueError(
            f"param '{name}': init {shown} is outside the support of {_describe(constraint)}; "
            "give an init value that satisfies the constraint"
        )


def _describe(constraint: Constraint) -> str:
    return repr(constraint)


def _same_constraint(a: Constraint, b: Constraint) -> bool:
    if type(a) is not type(b):
        return False
    da, db = vars(a), vars(b)
    if da.keys() != db.keys():
        return False
    for k in da:
        x, y = da[k], db[k]
        if isinstance(x, Constraint) and isinstance(y, Constraint):
            if not _same_constraint(x, y):
                return False
        elif isinstance(x, torch.Tensor) or isinstance(y, torch.Tensor):
            if not torch.equal(torch.as_tensor(x), torch.as_tensor(y)):
                return False
        elif x != y:
            return False
    return True


def _save_problem(path: Path, error: OSError) -> str:
    folder = path.parent
    if not folder.is_dir():
        return (
            f"cannot save the param store to {str(path)!r}: the folder {str(folder)!r} does not exist; create it "
            f"first (Path({str(folder)!r}).mkdir(parents=True)) or save elsewhere. Nothing was written"
        )
    if isinstance(error, PermissionError):
        return (
            f"cannot save the param store to {str(path)!r}: no permission to write in {str(folder)!r}; save to a "
            "folder of your own, e.g. your home folder. Nothing was written"
        )
    return f"cannot save the param store to {str(path)!r}: {error.strerror}. Nothing was written"


# A constraint is saved as (class name, fields), never pickled, so that loading stays
# weights_only-safe: the file names a class, and only classes that already exist in the
# running program can be named. torch's constraints are found in torch's module; a
# user's own Constraint subclass by the name given to register_constraint, else by its
# module and qualified name among the subclasses defined so far (define or import it
# before loading). Loading never imports a module a file names.
_REGISTERED: dict[str, type[Constraint]] = {}
_FIELD_TYPES = (int, float, bool, str, torch.Tensor, type(None))


def register_constraint(name: str, cls: type[Constraint]) -> type[Constraint]:
    """Save params with constraint class ``cls`` under ``name``, and load that name as ``cls``.

    Needed only when the class's module path changes between saving and loading (a
    notebook's ``__main__`` and a script's module, say); otherwise a user's constraint
    class is found by its module and name. Returns ``cls``, so it works as a decorator
    with ``functools.partial`` or called after the class.

    Example::

        >>> from torch.distributions.constraints import Constraint
        >>> class UnitDisk(Constraint):
        ...     event_dim = 1
        ...     def check(self, value):
        ...         return value.pow(2).sum(-1) <= 1
        >>> register_constraint("unit_disk", UnitDisk)  # doctest: +ELLIPSIS
        <class '...UnitDisk'>
    """
    if not (isinstance(cls, type) and issubclass(cls, Constraint)):
        raise TypeError(f"register_constraint({name!r}, cls): cls must be a Constraint subclass, got {cls!r}")
    if not isinstance(name, str) or not name or hasattr(constraints, name):
        raise ValueError(f"register_constraint: {name!r} must be a new, non-empty name (not one of torch's)")
    _REGISTERED[name] = cls
    return cls


def _class_key(cls: type) -> str:
    for key, registered in _REGISTERED.items():
        if registered is cls:
            return key
    if getattr(constraints, cls.__name__, None) is cls:
        return cls.__name__
    return f"{cls.__module__}.{cls.__qualname__}"


def _find_class(key: str) -> type[Constraint] | None:
    if key in _REGISTERED:
        return _REGISTERED[key]
    cls = getattr(constraints, key, None)
    if isinstance(cls, type) and issubclass(cls, Constraint):
        return cls
    todo: list[type] = [Constraint]
    while todo:  # the subclasses defined so far, depth first
        subclasses: list[type] = todo.pop().__subclasses__()
        for sub in subclasses:
            if f"{sub.__module__}.{sub.__qualname__}" == key:
                return sub
            todo.append(sub)
    return None


def _constraint_to_spec(name: str, constraint: Constraint) -> dict[str, Any]:
    cls = type(constraint)
    fields: dict[str, Any] = {}
    for key, value in vars(constraint).items():
        if isinstance(value, Constraint):
            fields[key] = _constraint_to_spec(name, value)
        elif isinstance(value, _FIELD_TYPES):
            fields[key] = value
        else:
            raise ValueError(
                f"param '{name}': cannot save field {key!r} ({type(value).__name__}) of its constraint "
                f"{constraint!r}; a saved constraint's fields must be numbers, strings, tensors or constraints. "
                "Nothing was written"
            )
    return {"class": _class_key(cls), "fields": fields}


def _constraint_from_spec(spec: Any) -> Constraint:
    if not isinstance(spec, dict) or not isinstance(spec.get("class"), str):
        raise ValueError(f"its constraint record should be {{'class': name, 'fields': {{...}}}}, got {spec!r}")
    cls = _find_class(spec["class"])
    if cls is None:
        raise ValueError(
            f"its constraint class {spec['class']!r} is not defined in this session; define or import it before "
            f"loading, or give it that name with pplkit.params.register_constraint({spec['class']!r}, cls)"
        )
    fields = spec.get("fields", {})
    if not isinstance(fields, dict):
        raise ValueError(f"the fields of its constraint {spec['class']!r} should be a dict, got {fields!r}")
    obj = cls.__new__(cls)
    for key, value in fields.items():
        if not isinstance(key, str) or not (isinstance(value, (dict, *_FIELD_TYPES))):
            raise ValueError(f"field {key!r} of its constraint {spec['class']!r} has a bad value {value!r}")
        setattr(obj, key, _constraint_from_spec(value) if isinstance(value, dict) else value)
    # Give back torch's own instance (constraints.positive, ...) when it is one, so that
    # identity checks such as the shortcuts in _constrain keep working after a load.
    for singleton in _SINGLETONS:
        if _same_constraint(obj, singleton):
            return singleton
    return obj


_SINGLETONS = [c for c in vars(constraints).values() if isinstance(c, Constraint)]


def _parse_state(
    state: Any,
) -> tuple[dict[str, torch.Tensor], dict[str, Constraint], dict[str, int | None]]:
    """Check every record of a saved state and build the store's tables; raise before anything is replaced."""
    if not isinstance(state, dict) or state.get("format") != _FORMAT:
        raise ValueError("not a pplkit param-store file (no 'format' marker); was it written by ParamStore.save?")
    if state.get("version") != _VERSION:
        raise ValueError(
            f"param-store format version {state.get('version')!r}; this pplkit reads version {_VERSION}: save the "
            "store again with this pplkit's get_param_store().save(path)"
        )
    params = state.get("params")
    if not isinstance(params, dict):
        raise ValueError("param-store file has no 'params' table; save it again with get_param_store().save(path)")
    unconstrained: dict[str, torch.Tensor] = {}
    constraint_of: dict[str, Constraint] = {}
    event_dims: dict[str, int | None] = {}
    for name, record in params.items():
        try:
            u, constraint, event_dim = _parse_record(record)
        except Exception as e:
            raise ValueError(
                f"param {name!r}: {e}. The store was left as it was; save the file again with "
                "get_param_store().save(path) rather than editing it"
            ) from None
        unconstrained[name] = _answers_unconstrained(u)
        constraint_of[name], event_dims[name] = constraint, event_dim
    return unconstrained, constraint_of, event_dims


def _parse_record(record: Any) -> tuple[torch.Tensor, Constraint, int | None]:
    if not isinstance(record, dict):
        raise ValueError(f"its record should be a dict, got {type(record).__name__}")
    u = record.get("unconstrained")
    if not isinstance(u, torch.Tensor) or not u.is_floating_point():
        raise ValueError(f"its 'unconstrained' value should be a floating-point tensor, got {u!r}")
    if "constraint" not in record:
        raise ValueError("its record has no 'constraint'")
    constraint = _constraint_from_spec(record["constraint"])
    event_dim = record.get("event_dim")
    if event_dim is not None and (isinstance(event_dim, bool) or not isinstance(event_dim, int) or event_dim < 0):
        raise ValueError(f"its 'event_dim' should be None or an int >= 0, got {event_dim!r}")
    u = u.detach().clone()
    try:  # what reading the param will do: it must work now, not fail later in items()
        with torch.no_grad():
            _constrain(u, constraint)
    except Exception as e:
        problem = f"{type(e).__name__}: {e}"
        raise ValueError(f"its constraint {constraint!r} cannot be applied to its value: {problem}") from None
    return u.requires_grad_(True), constraint, event_dim


_DEFAULT_STORE = ParamStore()


class _StoreOverride(threading.local):
    store: ParamStore | None = None


_OVERRIDE = _StoreOverride()


def get_param_store() -> ParamStore:
    """The default param store (shared by all threads), as ``pyro.get_param_store()``."""
    return _DEFAULT_STORE


def current_param_store() -> ParamStore:
    """The store that ``param`` uses in this thread: an override, else the default."""
    store = _OVERRIDE.store
    return _DEFAULT_STORE if store is None else store


@contextmanager
def use_param_store(store: ParamStore) -> Iterator[ParamStore]:
    """Make ``param`` read and write ``store`` in this thread, inside the block."""
    previous = _OVERRIDE.store
    _OVERRIDE.store = store
    try:
        yield store
    finally:
        _OVERRIDE.store = previous


def clear_param_store() -> None:
    """Remove every param from the store ``param`` uses in this thread."""
    current_param_store().clear()


# How ``module(name, torch_module)`` names its params: "name$$$layer.weight", as in Pyro.
_MODULE_NAMESPACE_DIVIDER = "$$$"


def param_with_module_name(pyro_name: str, param_name: str) -> str:
    """The store's name for parameter ``param_name`` of the module registered as ``pyro_name``.

    >>> param_with_module_name("net", "l1.weight")
    'net$$$l1.weight'
    """
    return pyro_name + _MODULE_NAMESPACE_DIVIDER + param_name


def module_from_param_with_module_name(param_name: str) -> str:
    """The module part of a store name made by :func:`param_with_module_name`.

    >>> module_from_param_with_module_name("net$$$l1.weight")
    'net'
    """
    return param_name.split(_MODULE_NAMESPACE_DIVIDER)[0]


def user_param_name(param_name: str) -> str:
    """The module's own name for a store name (``"net$$$l1.weight"`` -> ``"l1.weight"``); others unchanged.

    >>> user_param_name("net$$$l1.weight"), user_param_name("sigma")
    ('l1.weight', 'sigma')
    """
    if _MODULE_NAMESPACE_DIVIDER in param_name:
        return param_name.split(_MODULE_NAMESPACE_DIVIDER)[1]
    return param_name
