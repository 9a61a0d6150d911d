"""The bad-input catalogue: inputs a new user might give pplkit, and what pplkit says to each.

Every entry is one probe: ``setup`` prepares a scratch folder (and maybe the param
store), ``act`` does the bad (or tricky) thing. An entry either expects an error whose
message names the site, argument or file at fault (``names``) and the fix (``fix``),
or expects no error (``error=None``): then ``act`` itself checks that the answer is
right and returns a sentence saying what pplkit did.

``tests/test_bad_inputs.py`` runs every entry and also checks that nothing was lost:
the param store, the files in the scratch folder and the handler stack are the same
after a failure as before it. The table in ``docs/bad-inputs.md`` is generated from
these entries (``python -m tests.bad_inputs --write docs/bad-inputs.md``), and a test
fails when the committed file differs, so the catalogue cannot drift from the code.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch.distributions.constraints import Constraint

import pplkit
import pplkit.distributions as dist
from pplkit import handlers, plate, sample
from pplkit.datasets import DatasetNotFoundError, DatasetValidationError, load_rugged
from pplkit.distributions import constraints, transform_to, transforms
from pplkit.infer import MCMC, NUTS, SVI, Predictive, Trace_ELBO, config_enumerate, infer_discrete
from pplkit.infer.autoguide import AutoNormal
from pplkit.infer.elbo import NonFiniteLossError
from pplkit.optim import Adam


@dataclass(frozen=True)
class BadInput:
    """One probe of the catalogue."""

    area: str  # where the mistake is made: "model", "inference", "param files", ...
    title: str  # the input, as a user would describe it (markdown)
    act: Callable[[Path, Any], Any]  # does it; gets the scratch folder and setup's result
    error: type[BaseException] | None  # the exception expected, or None: a correct answer
    names: tuple[str, ...] = ()  # fragments naming the site / argument / file at fault
    fix: tuple[str, ...] = ()  # fragments of the suggested fix
    setup: Callable[[Path], Any] = field(default=lambda folder: None)


def store_contents() -> dict[str, tuple[torch.Tensor, str, int | None]]:
    """A copy of what the param store holds: each param's unconstrained value, constraint and event_dim."""
    store = pplkit.get_param_store()
    return {
        name: (u.detach().clone(), repr(store.constraint(name)), store.event_dim(name))
        for name, u in store.named_parameters()
    }


class _Checkpoint:
    contents: dict[str, tuple[torch.Tensor, str, int | None]] | None = None


CHECKPOINT = _Checkpoint()


def checkpoint() -> None:
    """Called by a probe that trains a while before failing: the store as it is now must survive the failure."""
    CHECKPOINT.contents = store_contents()


def message_of(error: BaseException) -> str:
    """What the user reads: the message and any notes pplkit added."""
    notes = getattr(error, "__notes__", None) or []
    return "\n".join([str(error), *notes])


# -- the model mistakes -------------------------------------------------------------------------

N = 20


def _regression_data() -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.linspace(-1.0, 1.0, N)
    return x, 2.0 * x + 0.3 * torch.sin(7.0 * x)


def _regression(x: torch.Tensor, y: torch.Tensor) -> None:
    w = sample("w", dist.Normal(0.0, 10.0))
    s = sample("s", dist.HalfNormal(1.0))
    with plate("data", len(x)):
        sample("obs", dist.Normal(w * x, s), obs=y)


def column_obs_in_a_plate(folder: Path, _: Any) -> None:
    x, y = _regression_data()
    svi = SVI(_regression, AutoNormal(_regression), Adam({"lr": 0.01}), Trace_ELBO())
    svi.step(x, y.unsqueeze(-1))  # a column, as df[["y"]].values gives


def int_obs_for_a_bernoulli(folder: Path, _: Any) -> str:
    labels = torch.tensor([0, 1, 1, 0, 1], dtype=torch.int64)

    def model(labels: torch.Tensor) -> None:
        p = sample("p", dist.Beta(2.0, 2.0))
        with plate("data", len(labels)):
            sample("obs", dist.Bernoulli(p), obs=labels)

    tr = handlers.trace(handlers.condition(model, {"p": torch.tensor(0.3)})).get_trace(labels)
    expected = torch.distributions.Bernoulli(torch.tensor(0.3)).log_prob(labels.float()).sum()
    got = tr.nodes["obs"].fn.log_prob(tr.nodes["obs"].value).sum()
    assert torch.allclose(got, expected), (got, expected)
    return "accepted: int and bool data are scored as floats (Categorical keeps its integer indices)"


def torch_distribution_with_an_autoguide(folder: Path, _: Any) -> str:
    def model() -> None:
        sample("z", torch.distributions.Normal(1.0, 2.0))

    guide = AutoNormal(model)
    SVI(model, guide, Adam({"lr": 0.01}), Trace_ELBO()).step()
    assert guide.median()["z"].shape == ()
    return "accepted: the torch distribution is used as the matching pplkit class (it gains .shape(), .to_event())"


def unconstrained_param_as_a_scale(folder: Path, _: Any) -> None:
    def model(data: torch.Tensor) -> None:
        sigma = pplkit.param("sigma", torch.tensor(-1.0))  # no constraint: nothing keeps it positive
        with plate("data", len(data)):
            sample("obs", dist.Normal(0.0, sigma), obs=data)

    handlers.trace(model).get_trace(torch.zeros(3))


# -- inference set-up mistakes ------------------------------------------------------------------


def _latent_model() -> None:
    sample("z", dist.Normal(0.0, 1.0))


def optim_class_instead_of_optimizer(folder: Path, _: Any) -> None:
    SVI(_latent_model, AutoNormal(_latent_model), torch.optim.Adam, Trace_ELBO())


def loss_class_instead_of_instance(folder: Path, _: Any) -> None:
    SVI(_latent_model, AutoNormal(_latent_model), Adam({"lr": 0.01}), Trace_ELBO)  # type: ignore[arg-type]


def scale_without_keyword(folder: Path, _: Any) -> None:
    with handlers.scale(2.0):  # type: ignore[arg-type]
        _latent_model()


def block_without_keyword(folder: Path, _: Any) -> None:
    with handlers.block(["z"]):  # type: ignore[arg-type]
        _latent_model()


def _scale_model(data: torch.Tensor) -> None:
    sigma = sample("sigma", dist.Uniform(0.0, 10.0))
    with plate("data", len(data)):
        sample("obs", dist.Normal(0.0, sigma), obs=data)


def _scale_data() -> torch.Tensor:
    return torch.linspace(-2.0, 2.0, 100)


def normal_guide_for_a_uniform_site(folder: Path, _: Any) -> None:
    def guide(data: torch.Tensor) -> None:
        loc = pplkit.param("sigma_loc", torch.tensor(0.0))
        sample("sigma", dist.Normal(loc, 1.0))

    svi = SVI(_scale_model, guide, Adam({"lr": 0.01}), Trace_ELBO())
    for _step in range(20):  # the guide's draws go negative within a few steps
        checkpoint()
        svi.step(_scale_data())


def error_raised_in_the_guide(folder: Path, _: Any) -> None:
    def guide(data: torch.Tensor) -> None:
        loc = pplkit.param("sigma_loc", torch.tensor(1.0), constraint=constraints.positive)
        sample("sigma", dist.LogNormal(loc.log(), 0.1))
        raise KeyError("column 'sigma_scale'")  # a bug in the user's guide

    SVI(_scale_model, guide, Adam({"lr": 0.01}), Trace_ELBO()).step(_scale_data())


def learning_rate_too_large(folder: Path, _: Any) -> None:
    svi = SVI(_scale_model, AutoNormal(_scale_model), Adam({"lr": 10.0}), Trace_ELBO())
    for _step in range(500):
        checkpoint()
        svi.step(_scale_data())


# -- param files ------------------------------------------------------------------------------


class AtLeast(Constraint):
    """A user's own constraint class, with a plain field (saved by value)."""

    def __init__(self, lower: float) -> None:
        self.lower = lower
        super().__init__()

    def check(self, value: torch.Tensor) -> torch.Tensor:
        return value >= self.lower


@transform_to.register(AtLeast)
def _to_at_least(constraint: AtLeast) -> transforms.Transform:
    return transforms.ComposeTransform([transforms.ExpTransform(), transforms.AffineTransform(constraint.lower, 1.0)])


def _store_with_params(folder: Path) -> Path:
    store = pplkit.get_param_store()
    store.get_param("loc", torch.tensor([0.5, -1.0]))
    store.get_param("scale", torch.tensor(2.0), constraints.positive)
    path = folder / "fit.pt"
    store.save(path)
    return path


def saved_file_is_readable_by_others(folder: Path, path: Path) -> str:
    umask = os.umask(0)
    os.umask(umask)
    mode = path.stat().st_mode & 0o777
    assert mode == 0o666 & ~umask, oct(mode)
    return "saved with the mode any new file gets (0o666 less the umask), so a class can load the teacher's file"


def unreadable_param_file(folder: Path, path: Path) -> None:
    # As root every file is readable, so the refusal the student's account would meet is simulated.
    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    original = Path.read_bytes
    Path.read_bytes = refuse  # type: ignore[method-assign]
    try:
        pplkit.get_param_store().load(path)
    finally:
        Path.read_bytes = original  # type: ignore[method-assign]


def save_into_a_missing_folder(folder: Path, path: Path) -> None:
    pplkit.get_param_store().save(folder / "results" / "fit.pt")


def hand_edited_constraint_field(folder: Path, path: Path) -> None:
    state = torch.load(path, weights_only=True)
    state["params"]["scale"]["constraint"] = {"class": "greater_than", "fields": {"lower_bound": "zero"}}
    edited = folder / "edited.pt"
    torch.save(state, edited)
    try:
        pplkit.get_param_store().load(edited)
    finally:
        edited.unlink()


def custom_constraint_round_trip(folder: Path, _: Any) -> str:
    store = pplkit.get_param_store()
    store.get_param("rate", torch.tensor(3.0), AtLeast(1.0))
    store.save(folder / "custom.pt")
    store.clear()
    store.load(folder / "custom.pt")  # with torch.load(weights_only=True)
    assert isinstance(store.constraint("rate"), AtLeast) and store.constraint("rate").lower == 1.0
    assert torch.allclose(store["rate"], torch.tensor(3.0))
    return "saved by value (class name and fields, no pickle) and loaded with weights_only=True"


def custom_constraint_not_defined_when_loading(folder: Path, path: Path) -> None:
    state = torch.load(path, weights_only=True)
    state["params"]["scale"]["constraint"] = {"class": "course_utils.Bounded", "fields": {}}
    edited = folder / "edited.pt"
    torch.save(state, edited)
    try:
        pplkit.get_param_store().load(edited)
    finally:
        edited.unlink()


# -- plates, prediction and data files --------------------------------------------------------


def empty_plate(folder: Path, _: Any) -> None:
    data = torch.zeros(0)  # e.g. a filter that kept no rows
    with plate("data", len(data)):
        sample("obs", dist.Normal(0.0, 1.0), obs=data)


def _local_latent_model(y: torch.Tensor) -> None:
    mu = sample("mu", dist.Normal(0.0, 5.0))
    with plate("data", len(y)):
        z = sample("z", dist.Normal(mu, 1.0))
        sample("obs", dist.Normal(z, 0.5), obs=y)


def _fitted_local_guide(folder: Path) -> AutoNormal:
    guide = AutoNormal(_local_latent_model)
    svi = SVI(_local_latent_model, guide, Adam({"lr": 0.05}), Trace_ELBO())
    for _step in range(3):
        svi.step(torch.linspace(-1.0, 1.0, 10))
    return guide


def predictive_on_fewer_rows(folder: Path, guide: AutoNormal) -> None:
    Predictive(_local_latent_model, guide=guide, num_samples=5)(torch.zeros(4))


def _with_data_dir(value: str, action: Callable[[], Any]) -> Any:
    saved = os.environ.get("PPLKIT_DATA_DIR")
    os.environ["PPLKIT_DATA_DIR"] = value
    try:
        return action()
    finally:
        if saved is None:
            del os.environ["PPLKIT_DATA_DIR"]
        else:
            os.environ["PPLKIT_DATA_DIR"] = saved


def _original_csv() -> bytes:
    return (Path(os.environ.get("PPLKIT_DATA_DIR") or Path(__file__).parent.parent.parent / "shared" / "data")
            / "rugged_data.csv").read_bytes()


def _data_file(transform: Callable[[bytes], bytes]) -> Callable[[Path], Path]:
    def setup(folder: Path) -> Path:
        (folder / "rugged_data.csv").write_bytes(transform(_original_csv()))
        return folder

    return setup


def load_from(folder: Path, data_dir: Path) -> None:
    _with_data_dir(str(data_dir), load_rugged)


def _extra_rows(content: bytes) -> bytes:
    lines = content.rstrip(b"\n").split(b"\n")
    return b"\n".join(lines + lines[1:4]) + b"\n"


def _semicolons(content: bytes) -> bytes:
    return content.replace(b",", b";")


def _utf16(content: bytes) -> bytes:
    return content.decode("latin-1").encode("utf-16")


def data_dir_names_the_csv(folder: Path, data_dir: Path) -> None:
    _with_data_dir(str(data_dir / "rugged_data.csv"), load_rugged)


def data_dir_empty(folder: Path, _: Any) -> None:
    _with_data_dir("", load_rugged)


# -- MCMC, replay and prediction --------------------------------------------------------------


def _normal_model(y: torch.Tensor) -> None:
    loc = sample("loc", dist.Normal(0.0, 5.0))
    scale = sample("scale", dist.HalfNormal(2.0))
    with plate("data", len(y)):
        sample("obs", dist.Normal(loc, scale), obs=y)


def _normal_guide(y: torch.Tensor) -> None:
    sample("loc", dist.Normal(pplkit.param("loc_mean", torch.tensor(0.0)), 1.0))
    sample("scale", dist.LogNormal(0.0, 1.0))


def nuts_given_the_models_result(folder: Path, _: Any) -> None:
    NUTS(_normal_model(torch.zeros(3)))  # type: ignore[func-returns-value]


def mcmc_given_the_kernel_class(folder: Path, _: Any) -> None:
    MCMC(NUTS, num_samples=100)  # type: ignore[arg-type]


def initial_params_with_a_wrong_name(folder: Path, _: Any) -> None:
    start = {"loc": torch.tensor(0.0), "sigma": torch.tensor(0.0)}
    MCMC(NUTS(_normal_model), 10, 10, initial_params=start, disable_progbar=True).run(torch.zeros(3))


def _gamma_model(y: torch.Tensor) -> None:
    rate = sample("rate", dist.HalfNormal(2.0))
    with plate("data", len(y)):
        sample("obs", dist.Gamma(2.0, rate), obs=y)


def zero_data_for_a_gamma(folder: Path, _: Any) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the data-outside-the-support warning, shown below
        MCMC(NUTS(_gamma_model), 10, 10, disable_progbar=True).run(torch.tensor([1.5, 0.0, 2.0]))


def negative_data_for_an_exponential(folder: Path, _: Any) -> str:
    import warnings

    def model(y: torch.Tensor) -> None:
        rate = sample("rate", dist.HalfNormal(2.0))
        with plate("data", len(y)):
            sample("obs", dist.Exponential(rate), obs=y)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        MCMC(NUTS(model), 5, 5, disable_progbar=True).run(torch.tensor([1.5, -2.0, 0.5]))
    said = [str(w.message) for w in caught if "outside the support" in str(w.message)]
    assert said and "site 'obs'" in said[0] and "-2" in said[0], said
    return "warns (and samples on, as Pyro does): " + said[0]


def _count_model() -> None:
    sample("n", dist.Poisson(3.0))
    sample("loc", dist.Normal(0.0, 1.0))


def nuts_on_a_poisson_latent(folder: Path, _: Any) -> None:
    MCMC(NUTS(_count_model), 10, 10, disable_progbar=True).run()


def _mixture(data: torch.Tensor) -> None:
    locs = sample("locs", dist.Normal(torch.zeros(2), 10.0).to_event(1))
    with plate("data", len(data)):
        which = sample("which", dist.Categorical(torch.tensor([0.5, 0.5])))
        sample("x", dist.Normal(locs[which], 1.0), obs=data)


_MIXTURE_DATA = torch.tensor([-1.0, 0.2, 1.0, 3.0])


def nuts_on_an_unmarked_discrete_latent(folder: Path, _: Any) -> str:
    import warnings

    mcmc = MCMC(NUTS(_mixture), 20, 20, disable_progbar=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mcmc.run(_MIXTURE_DATA)
    assert set(mcmc.get_samples()) == {"locs"}
    assert any("'which' are summed out by enumeration" in str(w.message) for w in caught)
    return (
        "accepted, as in Pyro: 'which' is summed out exactly by enumeration (a warning says it is not in "
        "get_samples() and to use infer_discrete; @config_enumerate silences it)"
    )


def max_plate_nesting_too_small(folder: Path, _: Any) -> None:
    MCMC(NUTS(config_enumerate(_mixture), max_plate_nesting=0), 10, 10, disable_progbar=True).run(_MIXTURE_DATA)


def replay_given_the_trace_handler(folder: Path, _: Any) -> None:
    handlers.trace(handlers.replay(_normal_model, trace=handlers.trace(_normal_guide))).get_trace(torch.zeros(3))


def predictive_given_the_mcmc_object(folder: Path, _: Any) -> None:
    mcmc = MCMC(NUTS(_normal_model), num_samples=10)
    Predictive(_normal_model, posterior_samples=mcmc)(torch.zeros(3))  # type: ignore[arg-type]


def predictive_given_chain_grouped_samples(folder: Path, _: Any) -> None:
    grouped = {"loc": torch.zeros(2, 5), "scale": torch.ones(2, 5)}  # get_samples(group_by_chain=True), 2 chains
    Predictive(_normal_model, posterior_samples=grouped)(torch.zeros(3))


def infer_discrete_under_predictive(folder: Path, _: Any) -> str:
    locs = torch.tensor([[-1.0, 1.0], [1.0, -1.0], [0.0, 3.0]])
    serving = infer_discrete(config_enumerate(_mixture), first_available_dim=-2, temperature=0)
    which = Predictive(serving, posterior_samples={"locs": locs})(_MIXTURE_DATA)["which"]
    nearest = (_MIXTURE_DATA[None, :, None] - locs[:, None, :]).abs().argmin(-1)
    assert torch.equal(which, nearest), (which, nearest)
    return (
        "each sample's assignments are computed given that sample's locs (Pyro 1.9.2 computes them from prior "
        "draws); parallel=True is refused with the fix"
    )


ENTRIES: list[BadInput] = [
    BadInput(
        "model",
        "obs of shape (N, 1) (`df[['y']].values`) inside `plate('data', N)`",
        column_obs_in_a_plate,
        ValueError,
        names=("site 'obs'", "dim -2", "'data'"),
        fix=("squeeze(-1)", ".to_event(1)"),
    ),
    BadInput(
        "model",
        "a param without a constraint used as a Normal's scale, at a negative value",
        unconstrained_param_as_a_scale,
        ValueError,
        names=("Expected parameter scale", "after site 'data'"),
        fix=("constraint=constraints.positive",),
    ),
    BadInput(
        "model",
        "int64 0/1 labels as obs of a Bernoulli",
        int_obs_for_a_bernoulli,
        None,
    ),
    BadInput(
        "model",
        "a plain `torch.distributions.Normal` in a model fitted with `AutoNormal`",
        torch_distribution_with_an_autoguide,
        None,
    ),
    BadInput(
        "guide",
        "a Normal guide for `sigma ~ Uniform(0, 10)` (its draws go negative)",
        normal_guide_for_a_uniform_site,
        ValueError,
        names=("model site 'sigma'", "outside the support", "Uniform"),
        fix=("AutoNormal(model)", "same support"),
    ),
    BadInput(
        "guide",
        "an error raised inside the guide",
        error_raised_in_the_guide,
        KeyError,
        names=("tracing the guide", "after site 'sigma'"),
        fix=("column 'sigma_scale'",),
    ),
    BadInput(
        "inference",
        "`Adam({'lr': 10.0})`: training diverges after a few steps",
        learning_rate_too_large,
        NonFiniteLossError,
        names=("model site", "lr=10.0"),
        fix=("clear_param_store()", "Adam({'lr': 1})"),
    ),
    BadInput(
        "param files",
        "a param file saved by the teacher, loaded by a student",
        saved_file_is_readable_by_others,
        None,
        setup=_store_with_params,
    ),
    BadInput(
        "param files",
        "`load` of a param file the user may not read",
        unreadable_param_file,
        PermissionError,
        names=("no permission to read", "fit.pt"),
        fix=("chmod a+r",),
        setup=_store_with_params,
    ),
    BadInput(
        "param files",
        "`save` into a folder that does not exist",
        save_into_a_missing_folder,
        FileNotFoundError,
        names=("results/fit.pt", "does not exist"),
        fix=("mkdir(parents=True)",),
        setup=_store_with_params,
    ),
    BadInput(
        "param files",
        "a hand-edited param file whose constraint field has the wrong type",
        hand_edited_constraint_field,
        ValueError,
        names=("edited.pt", "param 'scale'", "GreaterThan(lower_bound=zero)"),
        fix=("save the file again", "left as it was"),
        setup=_store_with_params,
    ),
    BadInput(
        "param files",
        "saving a param with a user-defined `Constraint` subclass",
        custom_constraint_round_trip,
        None,
    ),
    BadInput(
        "param files",
        "loading a file whose constraint class is not defined in this session",
        custom_constraint_not_defined_when_loading,
        ValueError,
        names=("param 'scale'", "course_utils.Bounded"),
        fix=("define or import it before loading", "register_constraint"),
        setup=_store_with_params,
    ),
    BadInput(
        "model",
        "a plate over empty data, `plate('data', len(data))` with `len(data) == 0`",
        empty_plate,
        ValueError,
        names=("plate 'data'", "size 0"),
        fix=("the data is empty",),
    ),
    BadInput(
        "prediction",
        "`Predictive` on 4 new rows after an `AutoNormal` with a local latent was fitted on 10",
        predictive_on_fewer_rows,
        ValueError,
        names=("site 'z'", "plate 'data'", "size 10", "4 elements"),
        fix=("keep only the global sites", "posterior_samples="),
        setup=_fitted_local_guide,
    ),
    BadInput(
        "data files",
        "`rugged_data.csv` with 3 rows repeated at the end",
        load_from,
        DatasetValidationError,
        names=("rugged_data.csv", "237 rows"),
        fix=("rows added or repeated", "Replace it with the original"),
        setup=_data_file(_extra_rows),
    ),
    BadInput(
        "data files",
        "`rugged_data.csv` saved with `;` between values",
        load_from,
        DatasetValidationError,
        names=("rugged_data.csv", "';'"),
        fix=("comma-separated",),
        setup=_data_file(_semicolons),
    ),
    BadInput(
        "data files",
        "`rugged_data.csv` saved as UTF-16",
        load_from,
        DatasetValidationError,
        names=("rugged_data.csv", "UTF-16"),
        fix=("CSV (comma delimited)",),
        setup=_data_file(_utf16),
    ),
    BadInput(
        "data files",
        "`PPLKIT_DATA_DIR` set to the CSV file itself",
        data_dir_names_the_csv,
        DatasetNotFoundError,
        names=("PPLKIT_DATA_DIR", "which is a file"),
        fix=("PPLKIT_DATA_DIR='<folder>'",),
        setup=_data_file(lambda content: content),
    ),
    BadInput(
        "data files",
        "`PPLKIT_DATA_DIR=''` (set, but empty)",
        data_dir_empty,
        DatasetNotFoundError,
        names=("PPLKIT_DATA_DIR", "empty"),
        fix=("unset PPLKIT_DATA_DIR",),
    ),
    BadInput(
        "inference",
        "`SVI(model, guide, torch.optim.Adam, loss)` (torch's optimizer class)",
        optim_class_instead_of_optimizer,
        TypeError,
        names=("optim", "Adam"),
        fix=("pplkit.optim.Adam({'lr'",),
    ),
    BadInput(
        "inference",
        "`SVI(..., loss=Trace_ELBO)` (the class, no parentheses)",
        loss_class_instead_of_instance,
        TypeError,
        names=("loss", "Trace_ELBO"),
        fix=("loss=Trace_ELBO()",),
    ),
    BadInput(
        "handlers",
        "`with scale(2.0):` (the factor passed as the model)",
        scale_without_keyword,
        ValueError,
        names=("scale", "2.0 is not callable"),
        fix=("scale(scale=2.0)",),
    ),
    BadInput(
        "handlers",
        "`with block(['z']):` (the names passed as the model)",
        block_without_keyword,
        ValueError,
        names=("block", "['z'] is not callable"),
        fix=("block(hide=['z'])",),
    ),
    BadInput(
        "handlers",
        "`replay(model, trace=trace(guide))` (the handler, not its recorded trace)",
        replay_given_the_trace_handler,
        TypeError,
        names=("replay", "trace= must be a Trace", "got trace"),
        fix=("trace(guide).get_trace(*args)",),
    ),
    BadInput(
        "MCMC",
        "`NUTS(model(data))` (the model called, its result passed)",
        nuts_given_the_models_result,
        ValueError,
        names=("NUTS got no model",),
        fix=("NUTS(model)", "mcmc.run(data)"),
    ),
    BadInput(
        "MCMC",
        "`MCMC(NUTS, num_samples=100)` (the kernel class)",
        mcmc_given_the_kernel_class,
        TypeError,
        names=("got the class NUTS",),
        fix=("MCMC(NUTS(model), ...)",),
    ),
    BadInput(
        "MCMC",
        "`initial_params` naming a site that does not exist (`sigma` for `scale`)",
        initial_params_with_a_wrong_name,
        ValueError,
        names=("['scale']", "['sigma']"),
        fix=("one unconstrained value for each of ['loc', 'scale']",),
    ),
    BadInput(
        "MCMC",
        "a Gamma likelihood with a 0 in the data (log density -inf everywhere)",
        zero_data_for_a_gamma,
        ValueError,
        names=("site 'obs' (Gamma)", "-inf", "1 of 3 elements"),
        fix=("data lie in the support",),
    ),
    BadInput(
        "MCMC",
        "an Exponential likelihood with a negative value in the data",
        negative_data_for_an_exponential,
        None,
    ),
    BadInput(
        "MCMC",
        "NUTS on a model with a Poisson latent",
        nuts_on_a_poisson_latent,
        ValueError,
        names=("latent site 'n'", "Poisson", "no finite support"),
        fix=("Sum it out of the model by hand", "condition()"),
    ),
    BadInput(
        "MCMC",
        "NUTS on a mixture whose Categorical latent is not marked for enumeration",
        nuts_on_an_unmarked_discrete_latent,
        None,
    ),
    BadInput(
        "MCMC",
        "`max_plate_nesting=0` for an enumerated model with one plate",
        max_plate_nesting_too_small,
        ValueError,
        names=("max_plate_nesting=0", "sits in 1 nested plate dim"),
        fix=("max_plate_nesting=1",),
    ),
    BadInput(
        "prediction",
        "`Predictive(model, posterior_samples=mcmc)` (the MCMC object)",
        predictive_given_the_mcmc_object,
        TypeError,
        names=("posterior_samples", "got MCMC"),
        fix=("mcmc.get_samples()",),
    ),
    BadInput(
        "prediction",
        "`Predictive` given `mcmc.get_samples(group_by_chain=True)` (a chain dim first)",
        predictive_given_chain_grouped_samples,
        ValueError,
        names=("posterior_samples['loc']", "(2, 5)", "shape ()"),
        fix=("(num_samples,)", "without group_by_chain=True"),
    ),
    BadInput(
        "prediction",
        "`Predictive(infer_discrete(model, ...), posterior_samples=mcmc.get_samples())`",
        infer_discrete_under_predictive,
        None,
    ),
]


# -- the generated table ------------------------------------------------------------------------


def run_entry(entry: BadInput, folder: Path) -> str:
    """Run one probe in ``folder`` (seeded) and return what pplkit says, for the table."""
    pplkit.clear_param_store()
    pplkit.set_rng_seed(0)
    state = entry.setup(folder)
    try:
        result = entry.act(folder, state)
    except Exception as error:  # the probe's own error is the result
        if entry.error is None:
            raise
        return message_of(error)
    if entry.error is not None:
        raise AssertionError(f"{entry.title}: expected {entry.error.__name__}, got no error")
    return str(result)


def _cell(text: str, folder: Path) -> str:
    text = text.replace(str(folder), "<folder>")
    text = re.sub(r" at 0x[0-9a-f]+", "", text)
    text = " ".join(text.split())
    return text.replace("|", "\\|")


def render(folder_for: Callable[[int], Path]) -> str:
    """The markdown of docs/bad-inputs.md: a table, one row per entry, messages as pplkit prints them."""
    lines = [
        "# The bad-input catalogue",
        "",
        "Inputs a new user might give pplkit, and what pplkit says to each. Generated by",
        "`python -m tests.bad_inputs --write docs/bad-inputs.md` from the entries in `tests/bad_inputs.py`,",
        "which `tests/test_bad_inputs.py` runs (and checks that the param store, the files and the",
        "handler stack are unchanged after each error); a test fails when this file is out of date.",
        "",
        "| area | input | what pplkit says |",
        "| --- | --- | --- |",
    ]
    for i, entry in enumerate(ENTRIES):
        folder = folder_for(i)
        said = run_entry(entry, folder)
        kind = "" if entry.error is None else f"**{entry.error.__name__}**: "
        lines.append(f"| {entry.area} | {entry.title} | {kind}{_cell(said, folder)} |")
    return "\n".join(lines) + "\n"


def _scratch_folders(root: Path) -> Callable[[int], Path]:
    def folder_for(i: int) -> Path:
        folder = root / f"entry{i}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    return folder_for


def main(argv: list[str] | None = None) -> int:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="write the markdown table to this file (else print it)")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as root:
        text = render(_scratch_folders(Path(root)))
    if options.write is None:
        sys.stdout.write(text)
    else:
        options.write.write_text(text)
    return 0



if __name__ == "__main__":
    raise SystemExit(main())
