"""The one exception type for bad user input, shared by every package.

The CLI turns an :class:`InputError` into exit code 2 and a single line on stderr.
"""


class InputError(ValueError):
    """Input a user gave is malformed or impossible (bad block string, unknown name, ...)."""
