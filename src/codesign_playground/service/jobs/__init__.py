"""Background jobs: the task functions, and the two queues that run them (Celery, in-process)."""
