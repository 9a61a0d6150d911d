"""``do``: causal intervention, fixing a site's value and cutting it from its causes."""

from __future__ import annotations

from typing import Any, Callable, Mapping

import torch

from ..distributions import Delta
from ..runtime import Handler, Message, SiteKind


class do(Handler):
    """Set the sites named in ``data`` to fixed values, as an intervention.

    The site becomes a point mass at the value: downstream sites see the value, and
    the site no longer depends on (or contributes evidence about) its parents. Traces
    mark it with ``site.intervened``.

    Pyro instead keeps sampling the original site as a disconnected latent variable
    and records the intervention under ``name + "__CF"``; the posterior over every
    other site is the same either way.

    Example::

        intervened = do(model, data={"bR": torch.tensor(0.0)})
    """

    def __init__(self, fn: Callable[..., Any] | None = None, data: Mapping[str, Any] | None = None) -> None:
        super().__init__(fn)
        if not isinstance(data, Mapping):
            raise TypeError(f"do needs data= as a dict of site name -> value, got {type(data).__name__}")
        self.data = data

    def process(self, msg: Message) -> None:
        if msg.kind is not SiteKind.SAMPLE or self.data.get(msg.name) is None:  # None: no intervention, as in Pyro
            return
        value = torch.as_tensor(self.data[msg.name], dtype=torch.get_default_dtype())
        shape = msg.fn.shape()
        try:
            value = value.expand(shape)
        except RuntimeError:
            raise ValueError(
                f"do: the value for site '{msg.name}' has shape {tuple(value.shape)}, which does not broadcast "
                f"to the site's shape {tuple(shape)}"
            ) from None
        msg.value = value
        msg.fn = Delta(value, event_dim=msg.fn.event_dim)
        msg.is_observed = True
        msg.intervened = True
        msg.done = True
