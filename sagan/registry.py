"""Name -> builder registries (variants, datasets, backbones, extractors).

Plug-in packages register builders on import with a decorator. The core loads the
packages listed under the ``sagan.plugins`` entry-point group (and any module named in a
config's ``plugins``) and never imports a variant by name.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from sagan.errors import ConfigError, first_line

T = TypeVar("T", bound=Callable[..., Any])

PLUGIN_GROUP = "sagan.plugins"
_loaded_plugins: set[str] = set()


@cache
def installed_plugins() -> tuple[str, ...]:
    """The modules of the ``sagan.plugins`` entry points, read once per process: scanning
    every installed distribution takes ~15 ms, and every registry look-up asks."""
    return tuple(ep.value for ep in entry_points(group=PLUGIN_GROUP))


def load_plugins(extra_modules: Iterable[str] = ()) -> None:
    """Import every installed plug-in package and the given extra modules (once each)."""
    names = [*installed_plugins(), *extra_modules]
    for name in names:
        if name in _loaded_plugins:
            continue
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"plugins: {name!r} is no module name; remove it, or name one")
        try:
            importlib.import_module(name)
        except ImportError as err:
            raise ConfigError(
                f"plug-in module {name!r} cannot be imported ({err}); "
                "install it or fix the name under 'plugins'"
            ) from err
        except Exception as err:  # its own code failed: say where, in one line
            raise ConfigError(
                f"plug-in module {name!r} failed while loading, at {_where(err, name)}: "
                f"{type(err).__name__}: {first_line(err)}; fix the plug-in or remove it from "
                "'plugins' (sagan --debug shows the traceback)"
            ) from err
        _loaded_plugins.add(name)


def _where(err: Exception, module: str) -> str:
    """FILE:LINE of the deepest frame in the plug-in's own file (else the deepest frame)."""
    frames = traceback.extract_tb(err.__traceback__)
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    own = [f for f in frames if spec is not None and f.filename == spec.origin]
    frame = (own or frames or [None])[-1]
    return f"{frame.filename}:{frame.lineno}" if frame else module


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    builder: T
    description: str
    tags: frozenset[str]
    count: int | None = None  # items the source always has (None: known only once built)
    # bumped when the builder makes different items from the same settings (a redrawn probe):
    # it enters the prepared data's key, so results made from the old items are not reused
    version: int = 1


class Registry(Generic[T]):
    """Builders by name. Registering a name twice raises; unknown names list the known ones."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def register(
        self,
        name: str,
        *,
        tags: Iterable[str] = (),
        count: int | None = None,
        version: int = 1,
    ) -> Callable[[T], T]:
        def decorator(builder: T) -> T:
            if name in self._entries:
                other = self._entries[name].builder
                raise ValueError(
                    f"{self.kind} {name!r} is already registered by "
                    f"{other.__module__}.{other.__qualname__}; pick another name"
                )
            doc = inspect.getdoc(builder) or ""
            summary = doc.split("\n")[0]
            self._entries[name] = Entry(name, builder, summary, frozenset(tags), count, version)
            return builder

        return decorator

    def unregister(self, name: str) -> None:
        """Remove a name (for tests that register throwaway entries)."""
        self._entries.pop(name, None)

    def entries(self, tag: str | None = None) -> list[Entry[T]]:
        load_plugins()
        return [e for _, e in sorted(self._entries.items()) if tag is None or tag in e.tags]

    def names(self, tag: str | None = None) -> list[str]:
        return [e.name for e in self.entries(tag)]

    def __contains__(self, name: str) -> bool:
        load_plugins()
        return name in self._entries

    def get(self, name: str) -> Entry[T]:
        load_plugins()
        if name not in self._entries:
            raise ConfigError(
                f"unknown {self.kind} {name!r}; registered {self.kind}s: "
                f"{', '.join(sorted(self._entries)) or '(none)'}"
            )
        return self._entries[name]

    def accepts(self, name: str, option: str) -> bool:
        return option in inspect.signature(self.get(name).builder).parameters

    def check_options(
        self, name: str, options: dict[str, Any] | None, *, supplied: Iterable[str] = ()
    ) -> None:
        """Raise a ConfigError naming the allowed options for unknown or missing ones.

        ``supplied``: options the caller will add itself (not required from the user).
        """
        params = inspect.signature(self.get(name).builder).parameters
        given = set(options or {})
        unknown = sorted(given - set(params))
        if unknown:
            allowed = ", ".join(params) or "(none)"
            raise ConfigError(
                f"{self.kind} {name!r} has no option(s) {', '.join(map(repr, unknown))}; "
                f"allowed: {allowed}"
            )
        required = [p for p, v in params.items() if v.default is inspect.Parameter.empty]
        missing = [p for p in required if p not in given and p not in set(supplied)]
        if missing:
            raise ConfigError(
                f"{self.kind} {name!r} needs option(s) {', '.join(map(repr, missing))} "
                "(under its options in the study config)"
            )

    def build(self, name: str, options: dict[str, Any] | None = None) -> Any:
        """Call the builder with keyword options; an unknown option names the allowed ones."""
        self.check_options(name, options)
        return self.get(name).builder(**dict(options or {}))


VARIANTS: Registry[Callable[..., Any]] = Registry("variant")


def register_variant(name: str, *, tags: Iterable[str] = ("image",)) -> Callable[[T], T]:
    """Register a variant builder: keyword options -> ``sagan.models.VariantSpec``."""
    return VARIANTS.register(name, tags=tags)
