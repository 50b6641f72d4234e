"""`/docs`: the OpenAPI explorer (Swagger UI), served from our own static files so that the page needs
no CDN and obeys the same Content-Security-Policy as every other page (no inline script)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Arbejdsmiljøviden API</title>
  <link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css">
  <script src="/static/vendor/swagger-ui/swagger-ui-bundle.js" defer></script>
  <script src="/static/api-docs.js" defer></script>
</head>
<body>
  <main id="swagger-ui" data-openapi="/openapi.json">
    <h1>Arbejdsmiljøviden API</h1>
    <p>The machine-readable description is at <a href="/openapi.json">/openapi.json</a>.</p>
  </main>
</body>
</html>
"""


@router.get("/docs")
def api_docs() -> HTMLResponse:
    return HTMLResponse(PAGE)
