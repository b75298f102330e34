"""A dict that keeps at most `maxsize` entries, evicting the oldest insertion.

    recent = BoundedDict[str, ChatItem](maxsize=100)
    recent["item_1"] = item            # the 101st new key evicts the oldest key
    recent.set_or_update("item_1", lambda: ChatItem(...), text="hi")
    recent.update_value("item_1", text="hello")     # None when the key is absent
    recent.pop_if(lambda item: item.interrupted)    # oldest matching entry, or (None, None)

"Oldest" is by first insertion: assigning to an existing key keeps its place, like a
plain dict. `maxsize=None` means unbounded (then it is an ordered dict that also has the
helpers); a `maxsize` below 1 raises ValueError. The update helpers set attributes, so
they suit mutable objects; for frozen attrs values use `attrs.evolve` and assign.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["BoundedDict"]

K = TypeVar("K")
V = TypeVar("V")


class BoundedDict(OrderedDict[K, V]):
    """Insertion-ordered dict with a size bound (see the module docstring)."""

    def __init__(self, maxsize: int | None = None) -> None:
        super().__init__()
        if maxsize is not None and (isinstance(maxsize, bool) or maxsize < 1):
            raise ValueError(f"maxsize must be a positive int or None: got {maxsize!r}")
        self.maxsize = maxsize

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        if self.maxsize is not None:
            while len(self) > self.maxsize:
                self.popitem(last=False)

    def set_or_update(self, key: K, factory: Callable[[], V], **attributes: Any) -> V:
        """Return the value at `key` (created by `factory()` if absent) with `attributes` set."""
        if key in self:
            value = self[key]
        else:
            value = factory()
            self[key] = value
        for name, attribute in attributes.items():
            setattr(value, name, attribute)
        return value

    def update_value(self, key: K, **attributes: Any) -> V | None:
        """Set `attributes` on the value at `key` and return it; None if `key` is absent.

        Attributes whose new value is None are left unchanged.
        """
        value = self.get(key)
        if value is None:
            return None
        for name, attribute in attributes.items():
            if attribute is not None:
                setattr(value, name, attribute)
        return value

    def pop_if(
        self, predicate: Callable[[V], bool] | None = None
    ) -> tuple[K, V] | tuple[None, None]:
        """Remove and return the oldest `(key, value)` matching `predicate`.

        Without a predicate, the oldest entry. `(None, None)` when nothing matches.
        """
        for key, value in self.items():
            if predicate is None or predicate(value):
                del self[key]
                return key, value
        return None, None
