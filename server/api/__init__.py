"""Thin HTTP routers: parse, authorise via the service, shape the response."""
