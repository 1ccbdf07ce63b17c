"""ASGI entry point: HTTP through Django, websockets through Channels.

Websockets pass the allowed-hosts origin check (no cross-site socket hijack)
and the session auth middleware; each consumer then checks the user.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tscc.settings")

from tscc.asgihandler import get_pooled_asgi_application  # noqa: E402

# HTTP requests run on a fixed pool of threads that keep their database
# connections (tscc/asgihandler.py); Django's own handler makes a thread,
# hence a new PostgreSQL connection, for every request.
django_asgi_app = get_pooled_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from tscc import heap, logfilters  # noqa: E402
from tscc.routing import websocket_urlpatterns  # noqa: E402

# Access logs never show the acknowledge links' or iCal feeds' tokens.
logfilters.install()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

# Start-up's objects out of every garbage collection, and collections made
# rarer (tscc/heap.py says why and what it measured).
heap.settle()
