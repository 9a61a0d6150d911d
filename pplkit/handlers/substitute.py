"""``substitute``: replace param values, as Pyro's ``poutine.substitute``."""

from __future__ import annotations

from typing import Any, Callable, Mapping

import torch

from ..runtime import Handler, Message, SiteKind


class substitute(Handler):
    """Use the given values for params instead of the param store's.

    Args:
        data: param name -> value.
        substitute_fn: called with the message; returns a value or None to keep the param.

    Example::

        with substitute(data={"sigma": torch.tensor(0.5)}):
            model()
    """

    def __init__(
        self,
        fn: Callable[..., Any] | None = None,
        data: Mapping[str, torch.Tensor] | None = None,
        substitute_fn: Callable[[Message], torch.Tensor | None] | None = None,
    ) -> None:
        super().__init__(fn)
        if (data is None) == (substitute_fn is None):
            raise ValueError("substitute: give exactly one of data= and substitute_fn=")
        self.data = data
        self.substitute_fn = substitute_fn

    def process(self, msg: Message) -> None:
        if msg.kind is not SiteKind.PARAM:
            return
        if self.data is not None:
            value = self.data.get(msg.name)
        else:
            assert self.substitute_fn is not None
            value = self.substitute_fn(msg)
        if value is not None:
            msg.value = value
            msg.done = True
