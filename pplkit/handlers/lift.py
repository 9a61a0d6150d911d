"""``lift``: turn params into random variables drawn from a prior."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from torch.distributions import Distribution

from ..runtime import Handler, Message, SiteKind


class lift(Handler):
    """Replace each ``param`` site named in ``prior`` by a ``sample`` site from its prior.

    Args:
        prior: one distribution for every param, or a dict of param name -> distribution
            (params not named stay params).

    A param read twice in one run is drawn once; the second read returns the same value.

    Example::

        lifted = lift(model, prior={"weight": dist.Normal(0.0, 1.0)})
        trace(lifted).get_trace().nodes["weight"].kind   # SiteKind.SAMPLE
    """

    def __init__(
        self, fn: Callable[..., Any] | None = None, prior: Distribution | Mapping[str, Distribution] | None = None
    ) -> None:
        super().__init__(fn)
        if prior is None:
            raise TypeError("lift needs prior= as a distribution or a dict of param name -> distribution")
        priors = prior.values() if isinstance(prior, Mapping) else [prior]
        for p in priors:
            if not isinstance(p, Distribution):
                raise TypeError(
                    f"lift needs prior= as a distribution or a dict of param name -> distribution, got {p!r}"
                )
        self.prior = prior
        self._drawn: dict[str, Message] = {}

    def __enter__(self) -> lift:
        self._drawn = {}
        return super().__enter__()

    def process(self, msg: Message) -> None:
        if msg.kind is not SiteKind.PARAM:
            return
        if isinstance(self.prior, Mapping):
            if msg.name not in self.prior:
                return
            prior = self.prior[msg.name]
        else:
            prior = self.prior
        msg.kind, msg.fn, msg.args, msg.kwargs, msg.infer = SiteKind.SAMPLE, prior, (), {}, {}
        if msg.name in self._drawn:
            # One random variable per name: a repeated read sees the first draw and is
            # hidden from outer handlers, so a trace holds the site once.
            msg.value, msg.is_observed, msg.stop = self._drawn[msg.name].value, True, True
        else:
            msg.is_observed = False
            self._drawn[msg.name] = msg  # its value is set by the time the name is read again
