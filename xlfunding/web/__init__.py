"""The drop zone (``xlfunding serve``): the sponsors' upload pages, the staff page, the API.
May import the core and every other wing; nothing but the command line imports it."""
