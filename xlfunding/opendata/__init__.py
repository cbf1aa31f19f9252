"""Open data (#14): the SCDL « Subventions » export, the 23 000 € threshold, each funder's
statement. May import the core, validate, read, write, month and year; cli and web import it."""
