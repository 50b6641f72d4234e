"""The core of Arbejdsmiljøviden: store, records, vocabularies, validation and the `amv` CLI.

`graph` never imports `api`; the web layer is built on top of this package.
"""
