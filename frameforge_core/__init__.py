"""What the API and the pipeline must agree on: the database, its migrations, store keys."""
