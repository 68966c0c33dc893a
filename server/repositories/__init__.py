"""Repositories: the only place with SQL. They never commit and never raise HTTP errors."""
