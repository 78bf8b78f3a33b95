"""{% once %}...{% endonce %}: a fragment rendered once per process and page, then reused as it is.

For what cannot change while a process runs: the site header's links and the footer, built from
settings (variant, theme, version), URL names and the theme's own templates. Rendering them was a
fifth of the order form page's CPU (docs/bench.md). Anything that depends on the request (the user,
the CSRF token, messages, the query) must stay outside the tag.

The key is the page being rendered (a page may override a block inside the fragment), the script
prefix and urlconf (what `{% url %}` depends on) and autoescaping. A changed setting (tests) forgets
every fragment; with the template engine in debug mode (templates reloaded) nothing is kept.
"""

from __future__ import annotations

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf

register = template.Library()
_rendered: dict[tuple, str] = {}


class OnceNode(template.Node):
    def __init__(self, nodelist):
        self.nodelist = nodelist

    def render(self, context):
        page = context.template
        if page is None or page.engine.debug:
            return self.nodelist.render(context)
        key = (self, page.origin.name, get_script_prefix(), get_urlconf(), context.autoescape)
        try:
            return _rendered[key]
        except KeyError:
            html = _rendered[key] = self.nodelist.render(context)
            return html


@register.tag
def once(parser, token):
    if len(token.split_contents()) != 1:
        raise template.TemplateSyntaxError("{% once %} takes no arguments")
    nodelist = parser.parse(("endonce",))
    parser.delete_first_token()
    return OnceNode(nodelist)


@receiver(setting_changed)
def forget_fragments(**kwargs) -> None:
    _rendered.clear()
