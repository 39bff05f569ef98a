"""A local stand-in for Vercel's edge: serve a static deployment folder by its ``vercel.json``."""

from aikinklab_ops.site.rules import Resolution, SiteRules
from aikinklab_ops.site.server import SiteServer, folder

__all__ = ["Resolution", "SiteRules", "SiteServer", "folder"]
