"""The dossier as PDF: its HTML laid out by WeasyPrint under the print stylesheet.

WeasyPrint is imported when a PDF is asked for: it loads Pango through cffi, and a server without Pango
still serves every other document (and the HTML dossier). Without it, the error names the packages.
The HTML holds everything inline; the fetcher refuses every URL all the same, so nothing a value could
smuggle in (it cannot: every value is escaped) would make the renderer read a file or the network.
"""

from __future__ import annotations

import threading
from typing import Any

from provgraph.domain.errors import Unavailable

PANGO_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0"
# One PDF at a time per process: layout is seconds of CPU (on 2 cores, parallel renders only slow each
# other and the API), and fontconfig and Pango are not documented as safe to drive from several threads.
_ONE_AT_A_TIME = threading.Lock()


def pdf(page: str) -> bytes:
    """The PDF of a self-contained HTML page."""
    try:
        import weasyprint
    except OSError as exc:  # cffi could not load Pango (or HarfBuzz, fontconfig)
        raise Unavailable(
            f"this server cannot write PDF: WeasyPrint needs Pango ({exc}); Debian: apt-get install {PANGO_PACKAGES}"
        ) from None

    class NoFetching(weasyprint.URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            raise ValueError(f"the dossier fetches nothing; refused {url[:80]!r}")

    with _ONE_AT_A_TIME:
        document = weasyprint.HTML(string=page, base_url=None, url_fetcher=NoFetching())
        body: bytes = document.write_pdf()
    return body
