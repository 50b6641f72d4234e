"""One module per group of pages; each route stays thin and calls the `graph` managers."""
