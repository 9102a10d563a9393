"""Launching projects: one run per project, whatever the route; the GraphQL client."""
