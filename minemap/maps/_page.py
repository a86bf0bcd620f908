"""The page of a map: the same HTML on every render, saved, offline or in a notebook.

branca renders by side effect. Each render adds to the element tree (folium's ``Layer``
adds an ``ElementAddToElement`` child, ``Class`` an include statement) and to the figure's
``header``/``html``/``script`` parts, and keeps all of it. A second render then numbers
elements differently and keeps the first render's ``feature_group_NNNN.addTo(...)`` lines,
which name variables that no longer exist (a ``ReferenceError`` in the browser, and only
the layers before it drawn). :func:`render` therefore records what a render adds and takes
exactly that away before the next one, so every render starts from the tree the user
built. :class:`Page` is the root of every map :func:`~minemap.maps.hazard_map` makes; it
renders this way whoever asks (``save_map``, ``map_html``, folium's ``save``, a notebook).
"""

from __future__ import annotations

import html as _htmllib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import folium
from branca.element import Element, Figure

from minemap._errors import SchemaError
from minemap.maps import _html
from minemap.maps import settings as _settings

#: Attribute of a figure holding what its last render added: ``[(holder, key, child)]``.
_RENDERED = "_minemap_rendered"
#: Ways a map shows itself in a notebook (see :data:`minemap.maps.settings.notebook`).
NOTEBOOK_MODES = ("inline", "offline", "cdn")


def _holders(root: Element) -> Iterator[Element]:
    """Every element of the tree under ``root``, then the figure's three parts."""
    yield from _html.walk(root)
    for part in ("header", "html", "script"):
        holder = getattr(root, part, None)
        if holder is not None:
            yield holder


def _snapshot(root: Element) -> dict[int, tuple[Element, set[str]]]:
    return {id(h): (h, set(h._children)) for h in _holders(root)}


def _added(before: dict[int, tuple[Element, set[str]]]) -> list[tuple[Element, str, Element]]:
    added = []
    for holder, keys in before.values():
        for key, child in holder._children.items():
            if key not in keys:
                added.append((holder, key, child))
    return added


def forget_rendered(root: Element) -> None:
    """Take out of the tree and the figure's parts what the last render added.

    A figure minemap has not rendered before (a plain folium map given to
    :func:`minemap.maps.map_html`) falls back to :func:`minemap.maps._html.forget_rendered`,
    which removes by name.
    """
    record = getattr(root, _RENDERED, None)
    if record is None:
        _html.forget_rendered(root)
        return
    for holder, key, child in record:
        if holder._children.get(key) is child:
            del holder._children[key]
    setattr(root, _RENDERED, [])


def render(root: Figure, **kwargs: Any) -> str:
    """Render ``root`` (a branca ``Figure``) from the tree its user built, every time."""
    forget_rendered(root)
    _html.stabilise_ids(root)
    before = _snapshot(root)
    try:
        return Figure.render(root, **kwargs)
    finally:
        setattr(root, _RENDERED, _added(before))


class Page(Figure):
    """The root of a minemap map: a branca ``Figure`` that renders the same every time.

    In a notebook it shows itself as :data:`minemap.maps.settings.notebook` says (Leaflet
    inlined by default), or as the map's own ``notebook`` attribute says when it is set.
    """

    def __init__(self) -> None:
        super().__init__()
        setattr(self, _RENDERED, [])

    def render(self, **kwargs: Any) -> str:
        return render(self, **kwargs)

    def _repr_html_(self, **kwargs: Any) -> str:
        return notebook_html(self)


def _is_web(url: str) -> bool:
    return url.lower().startswith(("http:", "https:", "//"))


@contextmanager
def _without_web_tiles(root: Element) -> Iterator[list[str]]:
    """Detach tile layers that load from the web, restoring them afterwards."""
    detached = []
    kept = []
    for element in list(_html.walk(root)):
        for key, child in list(element._children.items()):
            if isinstance(child, folium.TileLayer):
                if _is_web(str(child.tiles)):
                    detached.append((element, dict(element._children)))
                    del element._children[key]
                else:
                    kept.append(str(child.tiles))
    try:
        yield kept
    finally:
        for element, children in reversed(detached):
            element._children = type(element._children)(children)


def page_html(root: Figure, *, offline: bool = False, inline: bool = False) -> str:
    """The page of the figure ``root``.

    ``inline`` puts Leaflet's JavaScript and CSS into the page instead of linking them from
    the CDN (other linked assets stay linked); ``offline`` also drops web tile layers and
    every other web asset, and refuses a page that would still reach the network.
    """
    if not offline:
        page = render(root)
        return _html.inline_assets(page, drop_others=False) if inline else page
    with _without_web_tiles(root) as local_tiles:
        page = render(root)
    page = _html.inline_assets(page)
    _html.check_offline(page, allowed=tuple(_html.script_json(t)[1:-1] for t in local_tiles))
    return page


def notebook_mode(root: Element) -> str:
    """How the figure ``root`` shows in a notebook: its map's ``notebook``, or the setting."""
    mode = None
    for child in root._children.values():
        if isinstance(child, folium.Map):
            mode = getattr(child, "notebook", None)
            break
    mode = _settings.notebook if mode is None else mode
    if mode not in NOTEBOOK_MODES:
        raise SchemaError(
            f"notebook={mode!r}: give one of {', '.join(NOTEBOOK_MODES)} "
            "(see minemap.maps.settings.notebook)."
        )
    return mode


def notebook_html(root: Figure) -> str:
    """The figure ``root`` as notebook output: its page in an ``<iframe srcdoc>``.

    The frame is laid out as branca lays it out (``width``, ``height``, ``ratio`` of the
    figure); the page in it is built as :func:`notebook_mode` says.
    """
    mode = notebook_mode(root)
    page = page_html(root, offline=mode == "offline", inline=mode == "inline")
    frame = _htmllib.escape(page, quote=True)
    width = getattr(root, "width", "100%")
    height = getattr(root, "height", None)
    if height is None:
        ratio = getattr(root, "ratio", "60%")
        return (
            f'<div style="width:{width};"><div style="position:relative;width:100%;'
            f'height:0;padding-bottom:{ratio};"><span style="color:#565656">Make this '
            "Notebook Trusted to load map: File -&gt; Trust Notebook</span>"
            f'<iframe srcdoc="{frame}" style="position:absolute;width:100%;height:100%;'
            'left:0;top:0;border:none !important;" allowfullscreen '
            "webkitallowfullscreen mozallowfullscreen></iframe></div></div>"
        )
    return (
        f'<iframe srcdoc="{frame}" width="{width}" height="{height}" '
        'style="border:none !important;" allowfullscreen webkitallowfullscreen '
        "mozallowfullscreen></iframe>"
    )
