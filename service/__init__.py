"""The grading service: HTTP API, grading queue and embedded mode around the engine.

The engine (``graders``) is trusted library code; this package adds people,
courses, deadlines and a queue that never loses a submission. Build an app
with :func:`service.app.create_app` and a worker with
:func:`service.worker.create_celery`; both take a :class:`service.settings.Settings`.
"""
