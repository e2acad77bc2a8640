"""Errors a person can act on. The CLI prints their message and exits 1."""


class IpchatError(Exception):
    """Base class for expected failures; the message says what to do."""


class ManifestError(IpchatError):
    """corpus/sources.toml is malformed or names a file that cannot be used."""


class CorpusError(IpchatError):
    """The corpus is empty or a document cannot be read."""


class IndexMissingError(IpchatError):
    """No index where one was expected."""


class IndexMismatchError(IpchatError):
    """The index was built with another model, chunker or corpus."""


class ModelError(IpchatError):
    """The embedding model cannot be loaded or failed its integrity check."""


class InputError(IpchatError):
    """A question or message the tool cannot use (empty, too long, malformed)."""
