"""Running unattended: the nightly job, its schedule, the status of past runs and ``taxsync doctor``.

These sit above the application layer (``taxsync.app``) and call it; nothing below imports them.
"""
