"""Where the current request comes from, for records written deep inside services.

:class:`kam.core.middleware.RequestContextMiddleware` sets it for each web request and API
call; services read it with :func:`current` (the access log takes the client address and
user agent from here, so that no caller has to pass the request down). Outside a request
(the command line, background jobs) there is none and the fields stay empty.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    client_address: str | None
    user_agent: str
    path: str


_current: ContextVar[RequestContext | None] = ContextVar("kam_request_context", default=None)


def current() -> RequestContext | None:
    """The context of the request being answered, or ``None`` outside a request."""
    return _current.get()


@contextmanager
def using(context: RequestContext) -> Iterator[None]:
    """Make ``context`` current for the duration of the ``with`` block."""
    token = _current.set(context)
    try:
        yield
    finally:
        _current.reset(token)
