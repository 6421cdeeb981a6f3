"""What the service does, without HTTP: the API routes and the worker both call these."""
