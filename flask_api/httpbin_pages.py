"""Fixed documents of /json and /html: stable content a client can parse and compare."""

from __future__ import annotations

from typing import Any

# /json: the same shape as httpbin's sample slide show, so code that walks it keeps working.
SLIDESHOW: dict[str, Any] = {
    "slideshow": {
        "author": "Yours Truly",
        "date": "date of publication",
        "title": "Sample Slide Show",
        "slides": [
            {"title": "Wake up to WonderWidgets!", "type": "all"},
            {
                "title": "Overview",
                "type": "all",
                "items": [
                    "Why <em>WonderWidgets</em> are great",
                    "Who <em>buys</em> WonderWidgets",
                ],
            },
        ],
    }
}

# /html: a small, valid HTML5 page (httpbin serves a Moby-Dick excerpt; any HTML does the job).
HTML_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>netlab: a sample HTML page</title>
</head>
<body>
  <h1>A sample HTML page</h1>
  <p>This page is here so an HTTP client has some HTML to fetch, parse and check. It comes from
  the lab's flask_api service, which answers the httpbin-style endpoints offline.</p>
  <ul>
    <li><a href="/get">/get</a> echoes a GET request as JSON</li>
    <li><a href="/json">/json</a> returns a fixed JSON document</li>
  </ul>
</body>
</html>
"""
