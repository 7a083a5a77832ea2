"""The ``accord`` command line (Typer + Rich): a thin shell over :mod:`accord.services`."""
