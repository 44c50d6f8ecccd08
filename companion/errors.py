"""The one exception type for mistakes a user can make and fix (unknown topic, bad option, missing data).

The command line prints its message as one paragraph and exits with status 2, without a traceback.
"""


class UserError(Exception):
    """A mistake the user can fix; the message says what was expected, what was received, and the fix."""
