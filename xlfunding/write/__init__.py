"""Writing every workbook we hand out: styles, safe outputs, the template, the annex, the
corrections copy, LibreOffice, the settings file. May import the core; never ``read``."""
