"""From one year to the next: last year's annex imported (text or workbook), its totals checked,
the renewal and the pre-filled outputs. May import the core, ``read`` and ``write``."""
