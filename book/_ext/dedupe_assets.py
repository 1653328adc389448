"""Sphinx extension for the book: drop repeated <script>/<link> entries from a page's context.

jupyter-book 1.0.4 with sphinx-thebe 0.3 registers sphinx-thebe's inline configuration script twice, which
throws "Identifier 'THEBE_JS_URL' has already been declared" in every page. Keep the first of each.
"""

from __future__ import annotations


def _key(asset) -> tuple:
    """What the page would load or run: the file name (or inline body), whatever the priority."""
    attributes = getattr(asset, "attributes", {}) or {}
    return (getattr(asset, "filename", str(asset)) or "", str(attributes.get("body", "")))


def _dedupe(app, pagename, templatename, context, doctree):
    for name in ("script_files", "css_files"):
        assets = context.get(name)
        if not assets:
            continue
        seen, unique = set(), []
        for asset in assets:
            if _key(asset) not in seen:
                seen.add(_key(asset))
                unique.append(asset)
        context[name] = unique


def setup(app):
    app.connect("html-page-context", _dedupe, priority=10_000)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
