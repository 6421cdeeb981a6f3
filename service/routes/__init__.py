"""HTTP routes: thin, they check access through deps and call ``service.services``."""
