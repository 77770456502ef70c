"""Service infrastructure: database, cache, rate limits, metrics, logging, problem details."""
