"""The base of every error that is the user's to fix: the CLI prints it without a traceback."""


class LongtailError(Exception):
    """An error with a message that tells the user what is wrong and where."""
