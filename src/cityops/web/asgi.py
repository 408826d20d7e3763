"""ASGI entry point for process managers: `uvicorn cityops.web.asgi:app` (settings from CITYOPS_*)."""

from cityops.core.logging import configure_logging
from cityops.core.runtime import tune_garbage_collector
from cityops.core.settings import get_settings
from cityops.platform import build_platform
from cityops.web.app import create_app

_settings = get_settings()
configure_logging(_settings.log_level, json_lines=_settings.log_json)
app = create_app(build_platform(_settings))
tune_garbage_collector()
