"""The web layer: FastAPI app, routes, Jinja2 templates and static assets. Imports `graph`, never the reverse."""
