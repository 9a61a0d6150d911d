"""Data sets for the tutorials, found locally, in the user's cache, or downloaded once.

``load_rugged`` looks in three places, in this order:

1. ``$PPLKIT_DATA_DIR/rugged_data.csv`` when the variable is set (classrooms and CI point
   it at a shared folder; a missing or bad file there is an error, never silently skipped);
2. the user's cache, ``$XDG_CACHE_HOME/pplkit`` or ``~/.cache/pplkit``;
3. the public address Pyro's tutorial reads, after which the file is cached.

Every file is validated before use: its columns, its row count, and a checksum of the
parsed values the tutorials use. Hashing parsed values rather than bytes means a copy
saved with other line endings or quoting still passes, while a truncated or edited one
does not. pandas is imported only when a data set is loaded, so ``import pplkit`` stays
light.
"""

from __future__ import annotations

import hashlib
import io
import os
import urllib.request
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from .util import write_atomically

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DatasetNotFoundError", "DatasetValidationError", "cache_dir", "load_rugged"]

DATA_DIR_ENV = "PPLKIT_DATA_DIR"
RUGGED_FILE = "rugged_data.csv"
RUGGED_URL = "https://d2hg8soec8ck9v.cloudfront.net/datasets/rugged_data.csv"
RUGGED_ENCODING = "ISO-8859-1"  # as in Pyro's tutorial; country names are Latin-1
DOWNLOAD_TIMEOUT_S = 30.0

RUGGED_ROWS = 234
RUGGED_COLUMNS = (
    "isocode", "isonum", "country", "rugged", "rugged_popw", "rugged_slope", "rugged_lsd",
    "rugged_pc", "land_area", "lat", "lon", "soil", "desert", "tropical", "dist_coast",
    "near_coast", "gemstones", "rgdppc_2000", "rgdppc_1950_m", "rgdppc_1975_m",
    "rgdppc_2000_m", "rgdppc_1950_2000_m", "q_rule_law", "cont_africa", "cont_asia",
    "cont_europe", "cont_oceania", "cont_north_america", "cont_south_america", "legor_gbr",
    "legor_fra", "legor_soc", "legor_deu", "legor_sca", "colony_esp", "colony_gbr",
    "colony_fra", "colony_prt", "colony_oeu", "africa_region_n", "africa_region_s",
    "africa_region_w", "africa_region_e", "africa_region_c", "slave_exports",
    "dist_slavemkt_atlantic", "dist_slavemkt_indian", "dist_slavemkt_saharan",
    "dist_slavemkt_redsea", "pop_1400", "european_descent",
)
# The columns the tutorials use, and the file's precision for them (3 decimals).
RUGGED_CHECKSUM_COLUMNS = ("cont_africa", "rugged", "rgdppc_2000")
CHECKSUM_DECIMALS = 3
# Computed with values_checksum from the file Pyro's tutorial downloads.
RUGGED_SHA256 = "9296798979d4f953eea0460e33d61701cb42a6ed84651f9408f962bf60b10a5b"


class DatasetNotFoundError(FileNotFoundError):
    """The data set is in none of the places pplkit looks, and could not be downloaded."""


class DatasetValidationError(ValueError):
    """A data file exists but is not the expected data (corrupt, truncated or edited)."""


def cache_dir() -> Path:
    """The folder where downloaded data sets are kept: ``$XDG_CACHE_HOME/pplkit`` or ``~/.cache/pplkit``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pplkit"


def load_rugged() -> pd.DataFrame:
    """The terrain ruggedness and GDP of 234 nations (Nunn and Puga, 2012).

    The data of Pyro's "Introduction to Pyro" tutorial: one row per nation, 51 columns,
    among them ``cont_africa`` (1 for African nations), ``rugged`` (terrain ruggedness
    index) and ``rgdppc_2000`` (real GDP per capita in 2000; missing for 64 nations).

    Returns:
        A fresh ``pandas.DataFrame`` (safe to modify).

    Raises:
        DatasetNotFoundError: ``PPLKIT_DATA_DIR`` names a folder without the file, or the
            file is neither cached nor downloadable (the message says where to put it).
        DatasetValidationError: the file found is not the expected data.

    Example::

        from pplkit.datasets import load_rugged
        df = load_rugged()
        df[["cont_africa", "rugged", "rgdppc_2000"]].describe()
    """
    local_dir = os.environ.get(DATA_DIR_ENV)
    if local_dir is not None:
        return _read_rugged(_local_file(local_dir), str(Path(local_dir) / RUGGED_FILE))

    cached = cache_dir() / RUGGED_FILE
    cache_problem = ""
    if cached.is_file():
        try:
            return _read_rugged(cached, str(cached))
        except DatasetValidationError as error:
            # A damaged cache is only a cache: drop it and fetch a good copy.
            cache_problem = f" (the cached copy was invalid and has been removed: {error})"
            warnings.warn(f"Removing invalid cached data: {error}", stacklevel=2)
            cached.unlink(missing_ok=True)

    try:
        content = _download(RUGGED_URL, DOWNLOAD_TIMEOUT_S)
    except OSError as error:
        raise DatasetNotFoundError(
            f"Could not download {RUGGED_URL} ({error}){cache_problem}. Offline, put {RUGGED_FILE} "
            f"in {cached.parent}, or in a folder named by the {DATA_DIR_ENV} environment variable."
        ) from error
    frame = _read_rugged(io.BytesIO(content), f"the download from {RUGGED_URL}")
    _cache(cached, content)
    return frame


def _local_file(local_dir: str) -> Path:
    """The data file in the folder ``$PPLKIT_DATA_DIR`` names; every way of naming it wrongly is an error."""
    if not local_dir.strip():
        raise DatasetNotFoundError(
            f"{DATA_DIR_ENV} is set but empty. Set it to the folder that holds {RUGGED_FILE}, or unset it "
            f"(`unset {DATA_DIR_ENV}`, or `del os.environ['{DATA_DIR_ENV}']`) to use the cache in {cache_dir()}."
        )
    folder = Path(local_dir)
    if folder.is_file():
        hint = f"{DATA_DIR_ENV}={str(folder.parent)!r}" if folder.name == RUGGED_FILE else "the folder holding it"
        raise DatasetNotFoundError(
            f"{DATA_DIR_ENV} is set to {local_dir!r}, which is a file; it must name the folder that holds "
            f"{RUGGED_FILE}. Set {hint} instead."
        )
    path = folder / RUGGED_FILE
    if not path.is_file():
        raise DatasetNotFoundError(
            f"{DATA_DIR_ENV} is set to {local_dir!r}, but {path} does not exist. "
            f"Put {RUGGED_FILE} there, or unset {DATA_DIR_ENV} to use the cache in {cache_dir()}."
        )
    return path


def _download(url: str, timeout: float) -> bytes:
    """The bytes at ``url``; raises ``OSError`` (``URLError``, timeouts) when offline."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def _cache(path: Path, content: bytes) -> None:
    """Keep a copy at ``path``, written atomically so that readers never see half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, content)
    except OSError as error:
        # The data is already in memory; a read-only home only costs a download next time.
        warnings.warn(f"Could not cache {path.name} in {path.parent}: {error}", stacklevel=3)


def _read_rugged(source: Path | BinaryIO, label: str) -> pd.DataFrame:
    """Parse and validate the ruggedness CSV; ``label`` names the source in errors."""
    import pandas as pd

    content = source.read_bytes() if isinstance(source, Path) else source.read()
    if content[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in content[:200]:
        raise DatasetValidationError(
            f"{label} is encoded as UTF-16 (a spreadsheet's 'Unicode text' export), not as a plain CSV file: "
            f"save it again as 'CSV (comma delimited)', or replace it with the original from {RUGGED_URL}."
        )
    try:
        frame = pd.read_csv(io.BytesIO(content), encoding=RUGGED_ENCODING)
    except (ValueError, pd.errors.ParserError) as error:  # EmptyDataError is a ValueError
        raise DatasetValidationError(
            f"{label} is not a readable CSV file: {error}. Replace it with the original from {RUGGED_URL}."
        ) from None
    _validate_rugged(frame, label)
    return frame


def _validate_rugged(frame: pd.DataFrame, label: str) -> None:
    columns = tuple(frame.columns)
    if len(columns) == 1 and ";" in str(columns[0]):
        raise DatasetValidationError(
            f"{label} uses ';' between its values, not ',' (a spreadsheet set to a European locale saves it "
            f"so): save it again as comma-separated CSV, or replace it with the original from {RUGGED_URL}."
        )
    if columns != RUGGED_COLUMNS:
        missing = [c for c in RUGGED_COLUMNS if c not in columns]
        extra = [c for c in columns if c not in RUGGED_COLUMNS]
        detail = f"missing {missing}, unexpected {extra}" if missing or extra else "in another order"
        raise DatasetValidationError(
            f"{label} does not have the expected columns: {detail}. Replace it with the original from {RUGGED_URL}."
        )
    if len(frame) != RUGGED_ROWS:
        why = "truncated?" if len(frame) < RUGGED_ROWS else "rows added or repeated?"
        raise DatasetValidationError(
            f"{label} has {len(frame)} rows, expected {RUGGED_ROWS} ({why}). Replace it with the original "
            f"from {RUGGED_URL}."
        )
    checksum = values_checksum(frame, RUGGED_CHECKSUM_COLUMNS, label)
    if checksum != RUGGED_SHA256:
        raise DatasetValidationError(
            f"{label} has unexpected values in {list(RUGGED_CHECKSUM_COLUMNS)} "
            f"(sha256 {checksum[:12]}..., expected {RUGGED_SHA256[:12]}...): the file is corrupt or edited. "
            f"Replace it with the original from {RUGGED_URL}."
        )


def values_checksum(frame: pd.DataFrame, columns: tuple[str, ...], label: str = "data") -> str:
    """sha256 of the parsed values of ``columns``, independent of how the file was written.

    Values are rounded to the file's precision, ``-0.0`` becomes ``0.0`` and every NaN the
    same NaN, then hashed as little-endian float64 together with the column names.
    """
    import numpy as np
    import pandas as pd

    digest = hashlib.sha256()
    for name in columns:
        try:
            values = pd.to_numeric(frame[name]).to_numpy(dtype="float64", na_value=np.nan)
        except (ValueError, TypeError):
            raise DatasetValidationError(
                f"{label}: column {name!r} has non-numeric values. Replace the file with the original from "
                f"{RUGGED_URL}."
            ) from None
        values = np.round(values, CHECKSUM_DECIMALS) + 0.0
        values[np.isnan(values)] = np.nan
        digest.update(name.encode())
        digest.update(values.astype("<f8").tobytes())
    return digest.hexdigest()
