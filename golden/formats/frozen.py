"""Immutable, comparable parameter objects: the base of formats and block schemes."""

__all__ = ["Frozen"]


class Frozen:
    """Set attributes once through ``_init``; equality and hashing by ``_key()``; ``str`` is the name."""

    __slots__ = ()

    def __setattr__(self, key, value):
        raise AttributeError(f"{type(self).__name__} objects are immutable")

    def _init(self, **fields):
        for k, v in fields.items():
            object.__setattr__(self, k, v)

    def __eq__(self, other):
        return type(self) is type(other) and self._key() == other._key()

    def __hash__(self):
        return hash((type(self).__name__, self._key()))

    def __str__(self):
        return self.name
