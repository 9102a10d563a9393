"""Distributed mode: the steps of every run on Celery workers (dagster-celery), selected by environment.

settings.py reads the environment (which executor, which broker, which queues); executor.py is the
run worker's side (submit, watch, cancel); app.py is the Celery app a worker host runs.
"""
