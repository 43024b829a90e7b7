"""The ``fieldmeter`` command's sub-commands that grew beyond a few lines, one module each (``sync_server.cli``
assembles them)."""
