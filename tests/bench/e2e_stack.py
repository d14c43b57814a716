"""The local stack for the e2e benchmark, in a process of its own.

The load generator runs in the parent: sharing one interpreter (one GIL) with the stack would
charge the clients' own work to Charla's delivery times. moto runs in a third process, as under
`make run`. This process starts the stack, raises
agent capacity so every chat goes active, creates the agents, prints one JSON line with what
the parent needs, and stops the stack when its stdin closes.
"""

from __future__ import annotations

import json
import sys

AGENTS = 10
CAPACITY = 20  # 10 agents × 20 slots: room for all 100 chats


def main(argv: list[str]) -> None:
    """`[AGENTS CAPACITY]`: another team than the e2e figure's (routing_burst's 5 agents × 25 slots)."""
    from infra.local import cognito, collector, sampler

    sampler.start_from_environment("stack")  # off unless CHARLA_PROFILE_DIR is set
    from infra.local.stack import LocalStack

    agent_count, capacity = (int(argv[0]), int(argv[1])) if len(argv) == 2 else (AGENTS, CAPACITY)
    stack = LocalStack(port=0, moto_process=True).start()
    try:
        from functions.core import settings  # the stack is in this process, so this is the app's cache too

        settings.save_settings({"max_chats_per_agent": capacity})
        agents = []
        for n in range(agent_count):
            email, password = f"bench-agent-{n}@charla.local", cognito.new_password()
            stack.create_agent(email, password, f"Agent {n}", role="agent", accepting=True)
            agents.append({"email": email, "password": password})
        collector.fewer_full_collections()  # as `make run` does (infra/local/__main__.py)
        print(json.dumps({"base_url": stack.base_url, "ws_url": stack.ws_url, "agents": agents}), flush=True)
        sys.stdin.read()  # until the parent is done (or dies)
    finally:
        stack.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
