"""The HTTP edge: problems, request validation and size limits, request ids, logs, metrics, rate limits."""
