"""folium without a CDN: every script and stylesheet of a rendered map comes from the app itself.

folium's classes list CDN URLs in ``default_js``/``default_css`` (Leaflet, jQuery, Bootstrap, Font
Awesome...).  The subclasses here replace them, per instance, with the vendored copies the app serves
under ``/vendor/<package>/`` (installed from ``server/web/vendor/package-lock.json`` at set-up), and
drop what the maps do not use (jQuery, Bootstrap, awesome-markers), so no feature needing them may be
used.  Nothing here patches folium globally.
"""

from __future__ import annotations

from typing import Any

import folium
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.plugins import MarkerCluster
from jinja2 import Template

#: Where the app serves the vendored packages (see server.vendor_assets).
DEFAULT_VENDOR_PREFIX = "/vendor"


def leaflet_assets(
    prefix: str = DEFAULT_VENDOR_PREFIX,
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(js, css) of Leaflet itself."""
    return [("leaflet", f"{prefix}/leaflet/leaflet.js")], [("leaflet_css", f"{prefix}/leaflet/leaflet.css")]


class LocalMap(folium.Map):
    """A folium Map whose only assets are the vendored Leaflet script and stylesheet."""

    def __init__(self, *args: Any, vendor_prefix: str = DEFAULT_VENDOR_PREFIX, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.default_js, self.default_css = leaflet_assets(vendor_prefix)


class LocalMarkerCluster(MarkerCluster):
    """folium's MarkerCluster with the vendored Leaflet.markercluster."""

    def __init__(self, *args: Any, vendor_prefix: str = DEFAULT_VENDOR_PREFIX, **kwargs: Any):
        super().__init__(*args, **kwargs)
        base = f"{vendor_prefix}/leaflet.markercluster"
        self.default_js = [("markerclusterjs", f"{base}/leaflet.markercluster.js")]
        self.default_css = [
            ("markerclustercss", f"{base}/MarkerCluster.css"),
            ("markerclusterdefaultcss", f"{base}/MarkerCluster.Default.css"),
        ]


class VectorTileLayer(JSCSSMixin, Layer):
    """A Mapbox vector tile (MVT) layer of the app's own tile endpoint, fetched with the page's login.

    Drawn with Leaflet.VectorGrid (SVG renderer). Every layer inside a tile gets ``style``, whatever it
    is called, or, with ``style_property``, the style in ``styles`` named by that feature property
    (``style`` when the value has none). With ``popup_url`` the features are clickable: a click fetches
    ``popup_url`` with ``{id}`` replaced by the feature's ``id_property`` (an HTML fragment, with the
    login) and shows it in a popup.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function (map) {
            var fallback = {{ this.style|tojson }};
            var styles = {{ this.styles|tojson }};
            var key = {{ this.style_property|tojson }};
            function styleOf(properties) {
                return (key && properties && styles[properties[key]]) || fallback;
            }
            var layer = L.vectorGrid.protobuf(
                {{ this.url|tojson }},
                {
                    interactive: {{ (this.popup_url is not none)|tojson }},
                    maxNativeZoom: {{ this.max_native_zoom }},
                    attribution: {{ this.attribution|tojson }},
                    fetchOptions: {headers: swAuthHeaders({{ this.auth_storage_key|tojson }})},
                    // VectorGrid looks each tile layer up by name; a Proxy answers every name with one style.
                    vectorTileLayerStyles: new Proxy({}, {get: function () { return styleOf; }})
                }
            );
            {% if this.popup_url is not none %}
            layer.on("click", function (event) {
                var properties = (event.layer && event.layer.properties) || {};
                var id = properties[{{ this.id_property|tojson }}];
                if (id === undefined || id === null) { return; }
                var popup = L.popup({maxWidth: 340, minWidth: 240})
                    .setLatLng(event.latlng)
                    .setContent('<div class="sw-popup">加载中…</div>')
                    .openOn(map);
                swFetchText({{ this.popup_url|tojson }}.replace("{id}", encodeURIComponent(id)),
                            {{ this.auth_storage_key|tojson }})
                    .then(function (html) { popup.setContent(html); })
                    .catch(function () {
                        popup.setContent('<div class="sw-popup">信息暂不可用，请稍后重试。</div>');
                    });
            });
            {% endif %}
            return layer;
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        url: str,
        *,
        name: str,
        style: dict[str, Any],
        auth_storage_key: str,
        vendor_prefix: str = DEFAULT_VENDOR_PREFIX,
        show: bool = False,
        attribution: str = "",
        max_native_zoom: int = 18,
        style_property: str | None = None,
        styles: dict[str, dict[str, Any]] | None = None,
        popup_url: str | None = None,
        id_property: str = "id",
    ):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "VectorTileLayer"
        self.url = url
        self.style = style
        self.style_property = style_property
        self.styles = styles or {}
        self.popup_url = popup_url
        self.id_property = id_property
        self.auth_storage_key = auth_storage_key
        self.attribution = attribution
        self.max_native_zoom = max_native_zoom
        self.default_js = [
            ("vectorgrid", f"{vendor_prefix}/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js")
        ]


#: Page helpers every map defines first: the login header and fetching an HTML fragment with it.
FETCH_JS = """
window.swAuthHeaders = function (storageKey) {
    var token = null;
    try { token = window.sessionStorage.getItem(storageKey); } catch (e) { token = null; }
    return token ? {"Authorization": "Bearer " + token} : {};
};
window.swFetchText = function (url, storageKey) {
    return fetch(url, {headers: window.swAuthHeaders(storageKey)}).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
    });
};
"""


class InlineScript(MacroElement):
    """A script run once the map exists; ``{map}`` in the code is replaced by the map's variable."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.code }}
        {% endmacro %}
        """
    )

    def __init__(self, code: str):
        super().__init__()
        self._name = "InlineScript"
        self._code = code

    @property
    def code(self) -> str:
        """The code with the map's variable name filled in."""
        return self._code.replace("{map}", self._parent.get_name())


class InlineStyle(MacroElement):
    """A stylesheet written into the page's head (no file to fetch)."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>{{ this.css }}</style>
        {% endmacro %}
        """
    )

    def __init__(self, css: str):
        super().__init__()
        self._name = "InlineStyle"
        self.css = css
