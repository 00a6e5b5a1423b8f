"""The application layer: what each command does, over the workspace's database.

``pipeline.analyze`` is the one way figures are made (load, match transfers, value, compute for a period);
``report``, ``export``, ``views`` (holdings, problems), ``price_sync`` and the audits call it. Beside it: the
workspace, its lock and run log, file and exchange imports (``file_import``, ``accounts``), key audits and the
user's transfer decisions. ``service`` names the public calls in one place. Loading this package loads none of
its modules.
"""
