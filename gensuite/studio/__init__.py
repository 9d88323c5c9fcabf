"""gensuite studio: a local web page to sample, interpolate, continue, render and listen.

:mod:`gensuite.studio.studio` does the work in a work folder,
:mod:`gensuite.studio.jobs` runs the long parts in the background,
:mod:`gensuite.studio.uploads` checks what is sent and :mod:`gensuite.studio.app`
serves the page (``static/``) and the JSON API (docs/studio.md).
"""
