"""`make restore-drill`: point-in-time restore of PostgreSQL proven under live orders.

    cluster.py  the archiving primary, its base backup, a new cluster restored to a time T
    load.py     orders through the local stack, each with the wall time it was sent and acknowledged;
                the bulk rows of the scaled form
    verify.py   what the restored cluster must hold (and must not), schema and migrations
    report.py   the figures: RPO, RTO, sizes, one row per drill
    run.py      one drill end to end; `python -m stack.drill` runs it (and the scaled form)

It mirrors RDS point-in-time restore (docs/runbook.md, "Restore"): a new instance from the last
automated snapshot plus the archived WAL up to the target time, then the releases pointed at it.
"""
