"""Server-rendered pages for students and staff.

They sit on the API's own dependencies and route functions (the same access
checks, the same services), with a session cookie and CSRF token instead of
a bearer token. Reading works without JavaScript; a little plain JavaScript
adds drag-and-drop upload and live progress.
"""
