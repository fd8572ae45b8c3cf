"""Tools for the book itself and for instructors who fork it.

``config`` derives every notebook's Colab badge and Colab install cell from the repository named
in ``_config.yml``; ``conventions`` checks that each chapter notebook follows the book's rules;
``exercises`` reads the exercise convention (solutions and checks); ``student``, ``retarget`` and
``grading`` are the instructor's commands (``python -m metalearn_lite.course student|retarget|check``,
see ``book/for-instructors.md``); ``links`` keeps the book's external URLs in one checked list.
They need the ``course`` extra (``pip install "metalearn-lite[course]"``) for YAML and notebooks.
"""
