"""The member screen: a local web page (aiohttp in its own thread) fed by frame-loop snapshots.

``outputs.MemberOutputs`` is the daemon's one hook: it turns the frame loop's state into a snapshot per frame
(``snapshot.py``) and hands it, without blocking, to the page server (``server.py``) and to the voice
(``terminal.voice``). ``request.py`` is the start-at-terminal request (NIK/KPJ keypad).
"""
