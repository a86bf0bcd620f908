"""The report as an A4 PDF, printed by WeasyPrint: no browser to download, no network.

WeasyPrint lays the page out with its print stylesheet (the static map instead of the
interactive one). Everything the page shows is embedded as ``data:`` URIs, so the URL
fetcher given to WeasyPrint refuses every other address: a report can never make the PDF
step reach the network or read a local file.
"""

from __future__ import annotations

from minemap import _progress
from minemap._errors import OutputError
from minemap._extras import require


def html_to_pdf(page: str) -> bytes:
    """Print ``page`` (a report's HTML) to PDF bytes on A4.

    Parameters
    ----------
    page : str
        A self-contained HTML page (as :func:`minemap.report.build_report` makes).

    Returns
    -------
    bytes
        The PDF.

    Examples
    --------
    >>> html_to_pdf("<p>147,988.0 ha</p>")[:5]
    b'%PDF-'
    """
    require("weasyprint", extra="report", purpose="the PDF report")
    import logging

    import weasyprint
    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    # data: URIs only, and a refused address fails the PDF instead of leaving a hole
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    # WeasyPrint logs CSS it does not support (e.g. screen-only properties) as warnings;
    # the report's print stylesheet is what counts, so keep its log quiet unless errors
    logger = logging.getLogger("weasyprint")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with _progress.task("Printing the PDF", total=1, unit="stage") as bar:
            document = weasyprint.HTML(string=page, url_fetcher=fetcher, base_url=None)
            data = bytes(document.write_pdf())
            bar.update()
        return data
    except (ValueError, FatalURLFetchingError) as exc:  # a disallowed protocol
        raise OutputError(
            f"the report's PDF: {exc}; a report embeds everything it shows (data: URIs only)."
        ) from None
    finally:
        logger.setLevel(level)
