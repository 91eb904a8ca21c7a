"""A tool with dependencies, and a tool that needs approval.

Tools reach the application's objects through ``RunContext[Deps]``; ``transfer`` above a threshold
waits for a yes from the person at the keyboard. With ``--later`` nobody is asked: the run stops
with the approval pending, saved in the session, and ``--resume SESSION --approve`` carries it on.

    python examples/deps_and_approval.py --base-url http://localhost:8000/v1 "Pay Bob 250"
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from m1agent import Agent, ApprovalRequested, RunContext, tool
from m1agent.backends import VLLM


@dataclass
class Bank:
    """The application's state that tools need: balances by account."""

    balances: dict[str, int] = field(default_factory=lambda: {"me": 1_000, "bob": 50})


@tool
def balance(ctx: RunContext[Bank], account: str) -> str:
    """The balance of an account.

    Args:
        account: The account's owner, e.g. "me".
    """
    return f"{account}: {ctx.deps.balances.get(account, 0)} EUR"


@tool(needs_approval=lambda args: args.get("amount", 0) > 100)
def transfer(ctx: RunContext[Bank], to: str, amount: int) -> str:
    """Move money from my account to someone else's.

    Args:
        to: Who gets the money.
        amount: Whole euros, more than zero.
    """
    if amount <= 0 or amount > ctx.deps.balances["me"]:
        return f"Refused: {amount} EUR is not available."
    ctx.deps.balances["me"] -= amount
    ctx.deps.balances[to] = ctx.deps.balances.get(to, 0) + amount
    return f"Sent {amount} EUR to {to}; {ctx.deps.balances['me']} EUR left."


def ask(request: ApprovalRequested) -> bool:
    """Approve on the console."""
    reply = input(f"Allow {request.name}({request.arguments})? [y/N] ")
    return reply.strip().lower() in ("y", "yes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("request", nargs="?", default="Pay Bob 250 euros.")
    parser.add_argument("--base-url", default="http://localhost:8000/v1")
    parser.add_argument("--sessions", default=".m1agent/sessions", help="where session transcripts are kept")
    parser.add_argument("--later", action="store_true", help="do not ask now; leave the approval pending")
    parser.add_argument("--resume", metavar="SESSION", help="carry on a session with a pending approval")
    parser.add_argument("--approve", action="store_true", help="with --resume: approve what is pending")
    args = parser.parse_args()

    agent = Agent(
        backend=VLLM(args.base_url),
        instructions="You manage my bank account. Check balances before moving money.",
        tools=[balance, transfer],
        deps_type=Bank,
        deps=Bank(),
        approver=None if args.later or args.resume else ask,
        sessions=args.sessions,
    )
    if args.resume:
        pending = agent.load_state(args.resume).approvals
        result = agent.resume_sync(args.resume, approvals={call_id: args.approve for call_id in pending})
    else:
        result = agent.run_sync(args.request)
    for request in result.pending_approvals:
        print(f"pending approval: {request.name}({request.arguments}) as {request.call_id}")
        print(f"resume with: --resume {result.session_id} --approve")
    if result.output:
        print(result.output)
    print(f"[{result.stop_reason}; session {result.session_id}]")


if __name__ == "__main__":
    main()
