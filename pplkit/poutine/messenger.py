"""Pyro's ``poutine.messenger``: ``Messenger`` is pplkit's :class:`~pplkit.runtime.Handler`.

One handler base class, two doors: subclass it pplkit's way (``process`` /
``postprocess``) or Pyro's way (``_process_message`` / ``_postprocess_message``, or
``_pyro_sample`` / ``_pyro_post_sample`` ...), with messages read and written by key.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from ..runtime import Handler

Messenger = Handler

__all__ = ["Messenger", "pyro_messenger"]


def pyro_messenger(handler: type[Handler], name: str, pyro_args: Sequence[str]) -> type[Handler]:
    """Pyro's ``<Name>Messenger`` for a pplkit handler: built without a function, Pyro's argument order.

    ``ConditionMessenger(data)`` is ``condition(None, data=data)``; the class is a
    subclass of the handler, so ``isinstance`` and every behaviour are shared.
    """
    order = tuple(pyro_args)

    def __init__(self: Handler, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(order):
            raise TypeError(f"{name} takes at most {len(order)} positional arguments ({', '.join(order)})")
        for key, value in zip(order, args):
            if key in kwargs:
                raise TypeError(f"{name} got two values for {key!r}")
            kwargs[key] = value
        init: Callable[..., None] = handler.__init__
        init(self, None, **kwargs)

    doc = f"Pyro's ``{name}({', '.join(order)})``: :class:`{handler.__module__}.{handler.__name__}` without a function."
    return type(
        name, (handler,), {"__init__": __init__, "__doc__": doc, "__module__": f"pplkit.poutine.{_module(name)}"}
    )


def _module(name: str) -> str:
    words = [c if c.islower() else "_" + c.lower() for c in name.removesuffix("Messenger")]
    return "".join(words).lstrip("_") + "_messenger"
