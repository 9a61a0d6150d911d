"""``AutoIAFNormal``: a standard Normal over the packed latent vector, pushed through IAF steps.

As Pyro's: the base is ``Normal(0, 1)`` in every unconstrained dimension and each of the
``num_transforms`` steps is an :class:`~pplkit.infer.autoguide.flows.AffineAutoregressive`
with its own random order of the elements, so together they can bend the guide toward
correlated, skewed posteriors that a Gaussian cannot follow. The starting point comes
from the flow's random weights, not from ``init_loc_fn`` (which Pyro also ignores).

Params: ``AutoIAFNormal.transform.arn.layers.<k>.weight`` and ``.bias`` (with one step;
``transform.<t>.arn...`` with several), ``k`` counting the network's layers.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import torch
from torch.distributions import Distribution, Transform, constraints

from ... import distributions as dist
from ...primitives import param
from .continuous import AutoContinuous
from .flows import AffineAutoregressive, init_made_weights, made_masks
from .initialization import InitFn, init_to_feasible

__all__ = ["AutoIAFNormal"]

_CLIP_OPTIONS = ("log_scale_min_clip", "log_scale_max_clip")


class AutoIAFNormal(AutoContinuous):
    """A normalizing-flow guide: inverse autoregressive flow steps over all latent sites.

    Args:
        model: the model.
        hidden_dim: width of the flow network's hidden layer(s): an int or a list of ints
            (default ``[3 * latent_dim + 1]``, as Pyro).
        init_loc_fn: accepted for Pyro's signature; it has no effect (a FutureWarning, as Pyro).
        num_transforms: how many flow steps to chain.
        log_scale_min_clip, log_scale_max_clip: bounds on each step's log-scale (-5 and 3).

    Example::

        guide = AutoIAFNormal(model, hidden_dim=[20], num_transforms=2)
        svi = SVI(model, guide, Adam({"lr": 0.01}), Trace_ELBO())

    ``median()`` and ``quantiles()`` raise NotImplementedError (the flow has no closed-form
    marginals): draw samples with ``Predictive(model, guide=guide, num_samples=...)`` instead.
    """

    def __init__(
        self,
        model: Any,
        hidden_dim: int | Sequence[int] | None = None,
        init_loc_fn: InitFn | None = None,
        num_transforms: int = 1,
        **init_transform_kwargs: float,
    ) -> None:
        if init_loc_fn is not None:
            warnings.warn(
                "AutoIAFNormal: init_loc_fn has no effect (the flow starts from its random weights, as in Pyro); "
                "leave it out",
                FutureWarning,
                stacklevel=2,
            )
        unknown = sorted(set(init_transform_kwargs) - set(_CLIP_OPTIONS))
        if unknown:
            raise TypeError(
                f"AutoIAFNormal got unexpected keyword argument(s) {unknown}; it takes {list(_CLIP_OPTIONS)}"
            )
        if isinstance(num_transforms, bool) or not isinstance(num_transforms, int) or num_transforms < 1:
            raise ValueError(f"AutoIAFNormal: num_transforms must be a positive int, got {num_transforms!r}")
        super().__init__(model, init_loc_fn=init_to_feasible)
        self.hidden_dim = hidden_dim
        self.num_transforms = num_transforms
        self.clip_options = dict(init_transform_kwargs)
        self._steps: list[tuple[str, list[tuple[torch.Tensor, torch.Tensor]], list[torch.Tensor]]] = []

    def _hidden_dims(self) -> list[int]:
        if self.hidden_dim is None:
            return [3 * self.latent_dim + 1]
        dims = [self.hidden_dim] if isinstance(self.hidden_dim, int) else list(self.hidden_dim)
        if not dims or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in dims):
            raise ValueError(
                f"AutoIAFNormal: hidden_dim must be a positive int or a list of them, got {self.hidden_dim!r}"
            )
        return dims

    def _setup_sites(self) -> None:
        super()._setup_sites()
        hidden = self._hidden_dims()
        steps = []
        for t in range(self.num_transforms):
            path = f"{self.prefix}.transform" + (f".{t}" if self.num_transforms > 1 else "") + ".arn.layers"
            masks = made_masks(torch.randperm(self.latent_dim), hidden)
            steps.append((path, init_made_weights(self.latent_dim, hidden), masks))
        self._steps = steps

    def get_posterior(self, *args: Any, **kwargs: Any) -> Distribution:
        transforms: list[Transform] = []
        for path, inits, masks in self._steps:
            layers = [
                (
                    param(f"{path}.{k}.weight", weight, constraints.real),
                    param(f"{path}.{k}.bias", bias, constraints.real),
                )
                for k, (weight, bias) in enumerate(inits)
            ]
            transforms.append(AffineAutoregressive(layers, masks, **self.clip_options))
        zeros = torch.zeros(self.latent_dim, dtype=self._loc_init.dtype)
        base = dist.Independent(dist.Normal(zeros, torch.ones_like(zeros), validate_args=False), 1, validate_args=False)
        return dist.TransformedDistribution(base, transforms, validate_args=False)

    def _loc_scale(self) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError(
            "AutoIAFNormal has no closed-form marginals for median() or quantiles(): draw samples, "
            "e.g. Predictive(model, guide=guide, num_samples=1000)(...), and take their median or quantiles"
        )
