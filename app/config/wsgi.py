"""WSGI entry point for gunicorn (`gunicorn -c gunicorn.conf.py config.wsgi`)."""

import os
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.template import Context, Template, engines
from django.template.loader_tags import ExtendsNode
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = get_wsgi_application()
# Import every view now, not on the first request: a release whose code cannot load stops at
# start-up (gunicorn preloads this module) instead of passing its readiness probe and failing later.
get_resolver().reverse_dict  # noqa: B018 (the access is the point: it imports every view and builds the reverse map)


def compile_templates() -> int:
    """Compiles the project's own templates, the parents they extend and the form widgets' templates
    into the cached loaders, here in gunicorn's master, so every worker it forks (at start, in a
    rolling restart, at a max_requests recycle) serves its first pages without compiling them
    (docs/chaos.md, "Cold workers"). A template that does not parse stops the release here, as a
    view that does not import does."""
    names = sorted(
        {
            str(path.relative_to(folder))
            for folder in Path(settings.BASE_DIR).glob("**/templates")
            if "static" not in folder.parts
            for path in folder.rglob("*.html")
        }
    )
    for name in names:
        compile_parents(engines["django"].get_template(name).template)
    renderer = get_default_renderer()
    if isinstance(renderer, DjangoTemplates):  # the form widgets' own engine
        widgets = Path(forms.__file__).parent / "templates"
        for path in sorted(widgets.rglob("*.html")):
            renderer.get_template(str(path.relative_to(widgets)))
    return len(names)


def compile_parents(template: Template) -> None:
    """{% extends %} finds its parent at render time (a theme's base.html extends the shared one,
    skipping itself, under its own cache key): walk the chain as rendering would."""
    context = Context()
    context.template = template
    nodes = template.nodelist.get_nodes_by_type(ExtendsNode)
    while nodes:
        nodes = nodes[0].get_parent(context).nodelist.get_nodes_by_type(ExtendsNode)


compile_templates()
