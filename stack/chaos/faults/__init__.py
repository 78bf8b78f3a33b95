"""Fault mechanisms, one module per kind of lever; scenarios combine them.

    processes.py    signals to a variant's gunicorn (SIGKILL of the process group) and the
                    kubelet's crash loop (start again each time it exits)
    loadbalancer.py HAProxy's view of a slot through its runtime socket (state, sessions sent)
    database.py     a PostgreSQL outage (stop, then start again)

Network faults (latency, loss, partitions between a variant and PostgreSQL) belong in a
network.py here, built on a network namespace per variant and `tc netem`; none exists yet.
"""
