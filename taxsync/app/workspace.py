"""A workspace: one folder with ``taxsync.toml`` and (by default) the SQLite database beside it.

Where it is: ``--home DIR``, else ``$TAXSYNC_HOME``, else the nearest folder upward from the current one that
holds a ``taxsync.toml``, else the platform's user data folder. Secrets are never written here.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from taxsync.db import open_database
from taxsync.errors import ConfigError, UsageError
from taxsync.safety import owner_only, private_dir
from taxsync.tax.engine import METHODS
from taxsync.tax.jurisdictions import JURISDICTIONS

CONFIG_NAME = "taxsync.toml"
DEFAULT_DATABASE_URL = "sqlite:///taxsync.db"
TRACKING = ("universal", "per-wallet")


@dataclass(frozen=True, slots=True)
class Settings:
    name: str
    jurisdiction: str
    currency: str
    method: str
    tracking: str
    timezone: str
    database_url: str = DEFAULT_DATABASE_URL
    price_exchange: str = ""  # a ccxt exchange id whose public candles price accounts that have no exchange
    price_api_url: str = ""  # its base URL, when not the exchange's own
    key_max_age_days: int = 365  # `taxsync account audit` warns about API keys older than this

    def check(self) -> Settings:
        """The settings themselves, or a ConfigError naming the first bad value."""
        if self.jurisdiction not in JURISDICTIONS:
            raise ConfigError(f"unknown jurisdiction '{self.jurisdiction}': choose from {', '.join(JURISDICTIONS)}")
        if self.method not in METHODS:
            raise ConfigError(f"unknown method '{self.method}': available are {', '.join(METHODS)}")
        if self.tracking not in TRACKING:
            raise ConfigError(f"unknown tracking '{self.tracking}': choose from {', '.join(TRACKING)}")
        if not self.currency.isalpha() or not 3 <= len(self.currency) <= 5:
            raise ConfigError(f"'{self.currency}' is not a currency code such as USD")
        if self.price_exchange and not self.price_exchange.replace("_", "").isalnum():
            raise ConfigError(f"'{self.price_exchange}' is not an exchange id such as kraken")
        if not 1 <= self.key_max_age_days <= 36500:
            raise ConfigError(f"keys.max_age_days must be a number of days from 1 to 36500, "
                              f"not {self.key_max_age_days}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"unknown timezone '{self.timezone}': use a name such as America/New_York") from None
        return self


@dataclass(frozen=True, slots=True)
class Workspace:
    home: Path
    settings: Settings
    engine: Engine

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)


def resolve_home(home: Path | None = None, *, cwd: Path | None = None) -> Path:
    """The workspace folder chosen by the rules in this module's docstring."""
    if home is not None:
        return home.expanduser().resolve()
    if env := os.environ.get("TAXSYNC_HOME"):
        return Path(env).expanduser().resolve()
    start = (cwd or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    return Path(platformdirs.user_data_dir("taxsync", appauthor=False))


def _database_url(url: str, home: Path) -> str:
    """Relative SQLite paths are relative to the workspace folder, not to where the command runs."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).is_absolute():
        return str(parsed.set(database=str(home / parsed.database)))
    return url


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def render_config(settings: Settings) -> str:
    s = settings
    return (
        "# taxsync workspace settings. API secrets are never stored here: see `taxsync account add --help`.\n"
        f"name = {_toml_string(s.name)}\n"
        f"jurisdiction = {_toml_string(s.jurisdiction)}  # us, uk, de, ca, au or generic\n"
        f"currency = {_toml_string(s.currency)}  # the tax currency every value is reported in\n"
        f"method = {_toml_string(s.method)}  # cost-basis method: {', '.join(METHODS)}\n"
        f"tracking = {_toml_string(s.tracking)}  # universal or per-wallet\n"
        f"timezone = {_toml_string(s.timezone)}  # local calendar days for dates and day-based rules\n"
        "\n[database]\n"
        f"url = {_toml_string(s.database_url)}  # relative SQLite paths are inside this folder\n"
        "\n[prices]\n"
        "# `taxsync prices sync` prices each account on its own exchange's public candles; accounts without one\n"
        "# (file imports) use this exchange (a ccxt id such as \"kraken\"), else the first exchange account.\n"
        "# taxsync contacts no other service.\n"
        f"exchange = {_toml_string(s.price_exchange)}\n"
        f"api_url = {_toml_string(s.price_api_url)}  # empty: the exchange's own address\n"
        "\n[keys]\n"
        f"max_age_days = {s.key_max_age_days}  # `taxsync account audit` warns about API keys older than this\n"
    )


def init_workspace(
    home: Path,
    *,
    jurisdiction: str = "us",
    currency: str | None = None,
    method: str | None = None,
    tracking: str | None = None,
    timezone: str | None = None,
    name: str | None = None,
) -> Workspace:
    """Create ``taxsync.toml`` and the database in ``home``; refuses to overwrite an existing workspace."""
    if jurisdiction not in JURISDICTIONS:
        raise UsageError(f"unknown jurisdiction '{jurisdiction}': choose from {', '.join(JURISDICTIONS)}")
    rules = JURISDICTIONS[jurisdiction]
    settings = Settings(
        name=name or home.name or "taxsync",
        jurisdiction=jurisdiction,
        currency=(currency or rules.currency).upper(),
        method=method or rules.method,
        tracking=tracking or rules.tracking,
        timezone=timezone or rules.timezone,
    ).check()
    config = home / CONFIG_NAME
    if config.exists():
        raise UsageError(f"{config} already exists: this folder is a workspace already")
    private_dir(home)
    engine = open_database(_database_url(settings.database_url, home))
    temporary = config.with_suffix(".toml.tmp")
    with owner_only():
        temporary.write_text(render_config(settings), encoding="utf-8")
    temporary.replace(config)
    return Workspace(home=home, settings=settings, engine=engine)


def read_settings(home: Path) -> Settings:
    config = home / CONFIG_NAME
    if not config.is_file():
        raise ConfigError(f"no workspace at {home} (no {CONFIG_NAME}): run `taxsync init` or pass --home")
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{config}: not valid TOML: {error}") from None
    database, prices, keys = data.get("database", {}), data.get("prices", {}), data.get("keys", {})
    max_age = keys.get("max_age_days", 365)
    if not isinstance(max_age, int) or isinstance(max_age, bool):
        raise ConfigError(f"{config}: keys.max_age_days must be a whole number of days, not {max_age!r}")
    try:
        settings = Settings(
            name=str(data.get("name", home.name)),
            jurisdiction=str(data["jurisdiction"]),
            currency=str(data["currency"]).upper(),
            method=str(data["method"]),
            tracking=str(data.get("tracking", "universal")),
            timezone=str(data.get("timezone", "UTC")),
            database_url=str(database.get("url", DEFAULT_DATABASE_URL)),
            price_exchange=str(prices.get("exchange", "")).strip().lower(),
            price_api_url=str(prices.get("api_url", "")).strip(),
            key_max_age_days=max_age,
        )
    except KeyError as missing:
        raise ConfigError(f"{config}: the setting {missing} is missing") from None
    try:
        return settings.check()
    except ConfigError as error:
        raise ConfigError(f"{config}: {error}") from None


def open_workspace(home: Path | None = None) -> Workspace:
    """Open the workspace (migrating its database to the newest schema)."""
    folder = resolve_home(home)
    settings = read_settings(folder)
    engine = open_database(_database_url(settings.database_url, folder))
    return Workspace(home=folder, settings=settings, engine=engine)


def with_overrides(settings: Settings, **changes: str | None) -> Settings:
    """Settings with the non-empty command-line overrides applied and checked."""
    return replace(settings, **{k: v for k, v in changes.items() if v}).check()
