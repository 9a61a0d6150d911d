"""``condition`` fixes sample sites to observed data; ``uncondition`` frees observed sites."""

from __future__ import annotations

import warnings
from typing import Any, Callable, Collection, Mapping

import torch

from ..runtime import Handler, Message, SiteKind
from ..trace import Trace


class condition(Handler):
    """Observe the sites named in ``data`` at the given values.

    ``data`` may also be a trace (each of its sample sites observed at its value); a
    value of None leaves that site latent, as in Pyro. Warns, listing the model's
    sample sites, when ``data`` names a site the model never sampled: usually a typo
    that would otherwise silently condition nothing.

    Example::

        conditioned = condition(model, data={"obs": y})
    """

    def __init__(self, fn: Callable[..., Any] | None = None, data: Mapping[str, Any] | Trace | None = None) -> None:
        super().__init__(fn)
        if isinstance(data, Trace):  # as in Pyro: observe every sample site at its recorded value
            data = {name: m.value for name, m in data.nodes.items() if m.kind is SiteKind.SAMPLE}
        if not isinstance(data, Mapping):
            raise TypeError(f"condition needs data= as a dict of site name -> value, got {type(data).__name__}")
        self.data = data
        self._seen: set[str] = set()

    def __enter__(self) -> condition:
        self._seen = set()
        return super().__enter__()

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        super().__exit__(exc_type, exc_value, traceback)
        missing = [name for name in self.data if name not in self._seen]
        if exc_type is None and missing:
            warnings.warn(
                f"condition: the model never sampled {missing}, so that data was not used. "
                f"Its sample sites are: {sorted(self._seen)}",
                stacklevel=2,
            )

    def process(self, msg: Message) -> None:
        if msg.kind is not SiteKind.SAMPLE:
            return
        self._seen.add(msg.name)
        value = self.data.get(msg.name)
        if value is not None:  # a None value leaves the site latent, as in Pyro
            msg.value = value if isinstance(value, torch.Tensor) else torch.as_tensor(value)
            msg.is_observed = True


class uncondition(Handler):
    """Sample observed sites from their distributions instead of scoring the data.

    Args:
        names: free only these sites (pplkit's addition; Pyro's frees them all, as
            here when ``names`` is None).

    The data is kept in ``site.infer["obs"]``, as in Pyro. Sites fixed by ``do`` stay fixed.

    Example::

        prior_predictive = uncondition(model)
        obs_free = uncondition(model, names=["obs"])
    """

    def __init__(self, fn: Callable[..., Any] | None = None, names: Collection[str] | None = None) -> None:
        super().__init__(fn)
        if isinstance(names, str):
            raise TypeError(f"uncondition needs names= as a list of site names, got the string {names!r}")
        self.names = None if names is None else frozenset(names)

    def process(self, msg: Message) -> None:
        if msg.kind is not SiteKind.SAMPLE or not msg.is_observed or msg.intervened:
            return
        if self.names is None or msg.name in self.names:
            msg.infer["was_observed"] = True
            msg.infer["obs"] = msg.value
            msg.is_observed = False
            msg.value = None
            msg.done = False
