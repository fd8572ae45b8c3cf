"""Tools for the book itself and for instructors who fork it.

``config`` derives every notebook's Colab badge and Colab install cell from the repository named
in ``_config.yml``; ``conventions`` checks that each chapter notebook follows the book's rules.
They need the ``course`` extra (``pip install "metalearn-lite[course]"``) for YAML parsing.
"""
