"""Deploy tooling: what gets installed and how a release is replaced.

releases.py     the Helm releases of an environment (python -m stack.deploy.releases --env E), and the one
                source of each release's helm arguments (--release NAME --format helm-args)
rollout.py      the one rolling restart of a variant on the local stack (surge, ready, drain, stop)
builds.py       another build of the app (a copy to change into a newer or broken version)
smoke_check.py  the deploy's check through the load balancer (python -m stack.deploy.smoke_check)
analysis.py     canary vs stable of one variant from /metrics or Prometheus (python -m stack.deploy.analysis)
canary.py       a canary of one variant on the local stack: HAProxy runtime weights, promote or roll back
canary_demo.py  `make canary`: a good and a bad build as canaries under load, with exactly-once accounting
"""
