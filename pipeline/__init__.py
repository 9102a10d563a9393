"""An AI content-production pipeline on Dagster."""
