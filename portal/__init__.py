"""The grievance portal: application factory, settings, models and workflow."""

from .app import create_app
from .config import Settings

__all__ = ["Settings", "create_app"]
