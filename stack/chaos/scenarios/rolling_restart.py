"""1. Rolling restart of every variant: the new process ready before the old one is drained and stopped."""

import time

NUMBER = 1
NAME = "rolling restart"


def run(h, result) -> None:
    def action(load):
        for variant in h.stack.names:
            h.roll(variant, result)
            time.sleep(h.args.settle)

    h.run_load_scenario(result, action)
    result.check("0 failed requests (first attempts included)", not result.stats.failed)
    result.check("no 500 anywhere", not any(k.startswith("500") for k in result.stats.errors))
