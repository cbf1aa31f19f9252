"""Reading what comes in: what a file really is, the defended .xlsx engine, the template's table
and the annex. May import the core (not ``validate``, which stands on it); never ``write``."""
