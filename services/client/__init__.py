"""The ``chorus`` command's client side: commands that speak to the services only through their gRPC APIs.

``runtime`` (addresses, deadlines, errors as exit codes, output), one module per command group (``party``,
``touchpoint``, ``experience``, ``company`` for the queue, pulse and suggestions), and ``demo`` with the story it
loads (``story``). ``services/cli.py`` registers them.
"""
