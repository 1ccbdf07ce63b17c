"""ASGI entry point: HTTP through Django, websockets through Channels.

Websockets pass the allowed-hosts origin check (no cross-site socket hijack)
and the session auth middleware; each consumer then checks the user.
"""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tscc.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from tscc.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

# Start-up's objects (modules, settings, URL and template machinery) live as
# long as the process: keep them out of every garbage collection, so a full
# collection scans what requests and sockets allocate, not the whole of Django.
gc.collect()
gc.freeze()
