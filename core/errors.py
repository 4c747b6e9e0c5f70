"""The base of every error that is the user's to fix: the CLI prints it without a traceback."""


class LongtailError(Exception):
    """An error with a message that tells the user what is wrong and where."""


class ServiceUnavailable(LongtailError):
    """A back-end part (the vector store, the ranking workers) did not answer: not the
    caller's mistake; retry later (the API answers 503 with Retry-After)."""
