"""The object store: artifacts, checkpoints, caches and exports in an S3 bucket (PIPELINE_STORE=s3).

settings.py reads the environment; s3.py talks to the bucket (boto3); mirror.py keeps a host's data
folder as a scratch mirror of it, step by step; retention.py prunes old cache entries on either store.
With the default local store none of it runs: the data folder is the store.
"""
