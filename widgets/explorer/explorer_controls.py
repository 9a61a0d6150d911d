"""The explorer's controls for one site: prior family and parameters, ``do``, conditioned/free.

Each control reads back as plain data (a :class:`~widgets.views.priors.PriorChoice`, an
intervention value, a bool) and calls ``on_change`` when the learner changes it; the
explorer turns them into :class:`~widgets.views.toggles.Toggles`. Sliders report while they are
dragged (``continuous_update=True``, as PreliZ's do), throttled in the kernel: at most one
change per ``THROTTLE_S`` reaches the explorer, and the last position of a drag always does.
"""

from __future__ import annotations

import math
import re
import threading
import time
from typing import Any, Callable

import ipywidgets as W
import numpy as np
from torch.distributions import Distribution

from ..views.priors import (
    FAMILIES,
    PriorChoice,
    domain_of,
    families_for,
    matched_choice,
    mean_and_sd,
    param_range,
    prior_choice_of,
)

__all__ = ["LatentSiteControls", "ObservedSiteControls", "THROTTLE_S", "Throttle", "css_class_for"]

THROTTLE_S = 0.15  # a redraw of the prior views takes tens of ms: about 6 per second keeps up


class Throttle:
    """Calls ``fn`` at most once per ``interval`` seconds; the last call of a burst always runs.

    The first call runs at once; calls within ``interval`` of it schedule one trailing call
    (in a timer thread) for the end of the interval, so a drag shows its final position.

    Example::

        redraw = Throttle(lambda: print("redraw"), interval=0.1)
        for _ in range(50):
            redraw()        # prints once now, once more 0.1 s later
    """

    def __init__(self, fn: Callable[[], Any], interval: float = THROTTLE_S) -> None:
        self.fn, self.interval = fn, interval
        self._lock = threading.Lock()
        self._last = -math.inf
        self._timer: threading.Timer | None = None
        self._cancelled = False

    def __call__(self) -> None:
        with self._lock:
            if self._cancelled or self._timer is not None:
                return  # the scheduled trailing call will read the latest state
            wait = self._last + self.interval - time.monotonic()
            if wait > 0:
                self._timer = threading.Timer(wait, self._trailing)
                self._timer.daemon = True
                self._timer.start()
                return
            self._last = time.monotonic()
        self.fn()

    def _trailing(self) -> None:
        with self._lock:
            self._timer = None
            if self._cancelled:
                return
            self._last = time.monotonic()
        self.fn()

    def cancel(self) -> None:
        """Drop a scheduled call and ignore later ones (the widget was closed)."""
        with self._lock:
            self._cancelled = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

_SLIDER_LAYOUT = {"width": "310px"}
_STYLE = {"description_width": "72px"}


class LatentSiteControls(W.VBox):
    """Prior family and parameters for one latent site, and an optional ``do`` intervention.

    Args:
        site: the site's name.
        prior: its distribution in one run of the model as written.
        on_change: called with no arguments after every change the learner makes.
        adjustable: False when the prior's parameters depend on other random sites (a
            hierarchical prior): a slider would replace them with a constant.
        prior_draws: draws of the site's marginal prior, for the range of the ``do`` value.
    """

    def __init__(self, site: str, prior: Distribution, on_change: Callable[[], None], adjustable: bool = True,
                 prior_draws: Any = None) -> None:
        self.site, self.original, self._on_change = site, prior, on_change
        self.domain = domain_of(prior) or "real"
        self.original_choice = prior_choice_of(prior) if adjustable else None
        self._sliders: dict[str, W.Widget] = {}
        self.throttle = Throttle(self._changed)
        if self.original_choice is not None:
            first = self.original_choice.family
            options = [first] + [f for f in families_for(self.domain) if f != first]
        else:
            options = [type(prior).__name__]
        self.family = W.Dropdown(options=options, value=options[0], description="prior",
                                 disabled=self.original_choice is None,
                                 layout=W.Layout(width="250px"), style=_STYLE)
        self.params = W.VBox()
        # Sized to its text ("do(sigma = …)" was cut at a fixed 110 px); the slider takes the rest.
        self.do_enabled = W.Checkbox(value=False, description=f"do({site} = …)", indent=False,
                                     layout=W.Layout(width="auto", flex="0 0 auto"))
        low, high = _do_range(prior, self.domain, prior_draws)
        center = mean_and_sd(prior, self.domain)[0] if prior_draws is None else float(np.median(prior_draws))
        self.do_value = W.FloatSlider(value=min(max(center, low), high), min=low, max=high, step=(high - low) / 200,
                                      continuous_update=True, disabled=True, readout_format=".3g",
                                      layout=W.Layout(flex="1 1 140px", min_width="140px"))
        self.title = W.HTML()
        do_row = W.HBox([self.do_enabled, self.do_value], layout=W.Layout(width="320px"))
        why = ("its parameters depend on other sites" if not adjustable else
               "its parameters vary per element, or the explorer does not offer its family")
        note = [] if self.original_choice is not None else [W.HTML(f"<span class='pk-note'>prior fixed: {why}</span>")]
        super().__init__([self.title, self.family, self.params, *note, do_row],
                         layout=W.Layout(flex="0 0 auto", margin="0 0 8px 0"))
        self.add_class("pplkit-site-controls")
        self.add_class(css_class_for(site))
        self._show_params(self.original_choice)
        self.title.value = self._title_html()
        self.family.observe(self._on_family, names=["value"])
        self.do_enabled.observe(self._on_do_enabled, names=["value"])
        self.do_value.observe(lambda _: self._slid(), names=["value"])

    # -- reading back -------------------------------------------------------------------

    def prior_choice(self) -> PriorChoice | None:
        """The chosen prior, or None while it equals the model's own."""
        if self.original_choice is None:
            return None
        choice = self._choice_from_sliders(self.family.value)
        return None if choice is None or choice == self.original_choice else choice

    def intervention(self) -> float | None:
        return float(self.do_value.value) if self.do_enabled.value else None

    # -- setting from Python (tests, tutorials) -------------------------------------------

    def set_prior(self, family: str, **params: float) -> None:
        """Choose ``family`` and set some of its parameters, as a learner would with the controls."""
        if family not in self.family.options:
            raise ValueError(f"site '{self.site}': prior family {family!r} is not offered; choose one of "
                             f"{list(self.family.options)}")
        self._quiet = True  # one change for the explorer, not one per slider
        try:
            self.family.value = family
            for name, value in params.items():
                self._set_param(family, name, value)
        finally:
            self._quiet = False
        self._changed()

    def set_intervention(self, value: float | None) -> None:
        """``do(site = value)``, or no intervention for None: one change, as a learner's click would make."""
        self._quiet = True
        try:
            if value is not None:
                self.do_value.value = value
            self.do_enabled.value = value is not None  # observed: reports the change (unless unchanged)
        finally:
            self._quiet = False
        self._changed()

    # -- internals ----------------------------------------------------------------------

    _quiet = False

    def _slid(self) -> None:
        if not self._quiet:  # set_prior reports once, after all its sliders moved
            self.throttle()

    def _changed(self) -> None:
        self.title.value = self._title_html()
        if not self._quiet:
            self._on_change()

    def _title_html(self) -> str:
        if self.do_enabled.value:
            return f"<b>{self.site}</b> fixed: <code>do({self.site} = {self.do_value.value:.3g})</code>"
        shown = self.prior_choice() or self.original_choice
        prior = str(shown) if shown is not None else type(self.original).__name__
        return f"<b>{self.site}</b> ~ <code>{prior}</code>"

    def _on_family(self, change: dict[str, Any]) -> None:
        family = change["new"]
        assert self.original_choice is not None  # the dropdown is disabled otherwise
        if family == self.original_choice.family:
            self._show_params(self.original_choice)
        else:
            self._show_params(matched_choice(family, self.original, self.domain))
        self._changed()

    def _on_do_enabled(self, change: dict[str, Any]) -> None:
        self.do_value.disabled = not change["new"]
        self.family.disabled = change["new"]
        for slider in self._sliders.values():
            slider.disabled = change["new"]
        self._changed()

    def _show_params(self, choice: PriorChoice | None) -> None:
        self._sliders = {}
        if choice is None:
            self.params.children = ()
            return
        family = choice.family
        if family == "Uniform":
            r = param_range(family, "low", choice.params["low"], self.domain, choice)
            slider = W.FloatRangeSlider(value=(choice.params["low"], choice.params["high"]), min=r.low, max=r.high,
                                        step=(r.high - r.low) / 200, description="low, high",
                                        continuous_update=True, readout_format=".3g",
                                        layout=W.Layout(**_SLIDER_LAYOUT), style=_STYLE)
            self._sliders["low,high"] = slider
        else:
            for name in FAMILIES[family].params:
                self._sliders[name] = _slider(family, name, choice, self.domain)
        for slider in self._sliders.values():
            slider.observe(lambda _: self._slid(), names=["value"])
        self.params.children = tuple(self._sliders.values())

    def _choice_from_sliders(self, family: str) -> PriorChoice | None:
        if family == "Uniform" and "low,high" in self._sliders:
            low, high = self._sliders["low,high"].value
            if not low < high:  # a range slider allows low == high; a Uniform does not
                high = low + max(self._sliders["low,high"].step, 1e-6)
            return PriorChoice("Uniform", {"low": float(low), "high": float(high)})
        if set(self._sliders) != set(FAMILIES[family].params):
            return None
        return PriorChoice(family, {name: float(slider.value) for name, slider in self._sliders.items()})

    def _set_param(self, family: str, name: str, value: float) -> None:
        if family == "Uniform" and name in ("low", "high"):
            low, high = self._sliders["low,high"].value
            self._sliders["low,high"].value = (value, high) if name == "low" else (low, value)
            return
        if name not in self._sliders:
            raise ValueError(f"{family} has the parameters {list(FAMILIES[family].params)}, not {name!r}")
        self._sliders[name].value = value


def css_class_for(site: str) -> str:
    """A CSS class naming a site's controls (for styling and browser tests): ``pplkit-site-<name>``."""
    return "pplkit-site-" + re.sub(r"[^A-Za-z0-9_-]", "_", site)


def _do_range(prior: Distribution, domain: str, draws: Any) -> tuple[float, float]:
    """Where a ``do`` value may go: the prior's bulk, inside the site's domain."""
    if draws is not None and len(draws) > 1:
        low, high = (float(q) for q in np.quantile(draws, [0.01, 0.99]))
        margin = 0.25 * (high - low) or 1.0
        low, high = low - margin, high + margin
    else:
        center, spread = mean_and_sd(prior, domain)
        low, high = center - 3 * spread, center + 3 * spread
    if domain in ("positive", "unit_interval"):
        low = max(low, 1e-3)
    if domain == "unit_interval":
        high = min(high, 1 - 1e-3)
    return low, max(high, low + 1e-3)


def _slider(family: str, name: str, choice: PriorChoice, domain: str) -> W.Widget:
    value = choice.params[name]
    r = param_range(family, name, value, domain, choice)
    common = dict(description=name, continuous_update=True, readout_format=".3g",
                  layout=W.Layout(**_SLIDER_LAYOUT), style=_STYLE)
    if r.log:  # a positive parameter: log scale, never reaching zero
        return W.FloatLogSlider(value=value, base=10, min=math.log10(r.low), max=math.log10(r.high), step=0.02,
                                **common)
    return W.FloatSlider(value=value, min=r.low, max=r.high, step=(r.high - r.low) / 200, **common)


class ObservedSiteControls(W.VBox):
    """Conditioned on the data, or free (sampled: a prior or posterior predictive)."""

    def __init__(self, site: str, on_change: Callable[[], None]) -> None:
        self.site = site
        self.mode = W.ToggleButtons(options=["conditioned", "free"], value="conditioned",
                                    tooltips=[f"{site} is conditioned on its data",
                                              f"{site} is sampled: the fit ignores its data"],
                                    style={"button_width": "100px"})
        super().__init__([W.HTML(f"<b>{site}</b> (observed)"), self.mode])
        self.add_class("pplkit-site-controls")
        self.add_class(css_class_for(site))
        self.mode.observe(lambda _: on_change(), names=["value"])

    @property
    def free(self) -> bool:
        return self.mode.value == "free"
