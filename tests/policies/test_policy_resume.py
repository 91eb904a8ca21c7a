"""Policy state lives in the session: after a resume, in a new process (a new ``Agent`` over the same
session store), the engine knows what the live run knew. Real runs: scripted M1 output through the
loopback vLLM server, the loop, tau2's airline tools and the airline pack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from m1agent.policies.pack import load_pack
from m1agent.policies.tau.domain import TauDomain, TauView
from m1agent.policies.tau.journal import Journal

from m1agent import Agent
from m1agent.backends.vllm import VLLM
from m1agent.events import PolicyStateChanged
from m1agent.messages import ToolResultMessage
from m1agent.testing import VLLMServer

USER, BIZ, OTHER_RES = "mia_li_3668", "NO6JO3", "R9QDGB"
CERTIFICATE = "I can send you a certificate of $100 as compensation for the delay. Shall I proceed?"


def call(name: str, **arguments: Any) -> str:
    body = json.dumps({"name": name, "arguments": arguments})
    return f"<think>\nNext step.\n</think>\n<tool_calls>\n{body}\n</tool_calls>"


def answer(text: str) -> str:
    return f"<think>\nTell the user.\n</think>\n{text}"


class Airline:
    def __init__(self) -> None:
        self.env = TauDomain("airline").new_env()
        self.journal = Journal(self.env)
        self.tools = TauDomain.tools(self.env)
        self.engine = load_pack("airline").build_engine(view=TauView(self.env))

    def agent(self, base_url: str, sessions: Path) -> Agent[None]:
        """A new agent over the same session store: what a new process would build."""
        return Agent(VLLM(base_url), "Airline agent.", self.tools, policies=[self.engine], sessions=sessions)

    def certificates(self) -> int:
        methods = self.env.tools.db.users[USER].payment_methods
        return sum(1 for m in methods.values() if m.source == "certificate")


@pytest.fixture(scope="module")
def airline_env() -> Airline:
    return Airline()


@pytest.fixture
def airline(airline_env: Airline) -> Iterator[Airline]:
    yield airline_env
    airline_env.journal.restore()


def results(agent: Agent[None], session: str) -> list[ToolResultMessage]:
    return [m for m in agent.load_state(session).history if isinstance(m, ToolResultMessage)]


async def test_a_once_only_certificate_stays_used_after_a_resume(
        airline: Airline, tmp_path: Path, counter: Any) -> None:
    script = [call("get_user_details", user_id=USER), answer(CERTIFICATE),
              call("send_certificate", user_id=USER, amount=100), answer("Done."),
              # the resumed process: the same proposal, the same "Yes please."
              answer(CERTIFICATE), call("send_certificate", user_id=USER, amount=100), answer("I could not.")]
    before = airline.certificates()
    async with VLLMServer(script=script, counter=counter) as server:
        first = airline.agent(server.base_url, tmp_path)
        run = await first.run(f"I'm {USER}; my flight was delayed.")
        await first.run("Yes please.", session_id=run.session_id)
        assert airline.certificates() == before + 1
        recorded = first.load_state(run.session_id).policy_states["airline"]
        assert recorded["call_counts"] and recorded["authenticated_user"] == USER
        second = airline.agent(server.base_url, tmp_path)
        await second.run("Can I get another one?", session_id=run.session_id)
        await second.run("Yes please.", session_id=run.session_id)
    assert airline.certificates() == before + 1
    denied = results(second, run.session_id)[-1]
    assert denied.is_error and "only once" in denied.content
    # The engine the agents hold is configuration: no run wrote its state into it.
    assert airline.engine.state.authenticated_user is None and not airline.engine.state.call_counts


async def test_no_write_after_a_transfer_even_after_a_resume(airline: Airline, tmp_path: Path, counter: Any) -> None:
    script = [call("get_user_details", user_id=USER), call("get_reservation_details", reservation_id=BIZ),
              call("transfer_to_human_agents", summary="wants a refund"),
              # the resumed process: the user pushes the cancel
              answer(f"Shall I cancel reservation {BIZ}?"), call("cancel_reservation", reservation_id=BIZ),
              answer("unreached")]
    async with VLLMServer(script=script, counter=counter) as server:
        first = airline.agent(server.base_url, tmp_path)
        run = await first.run(f"I'm {USER}. I want a human.")
        assert run.stop_reason == "policy_end"
        second = airline.agent(server.base_url, tmp_path)
        await second.run("Actually, cancel it.", session_id=run.session_id)
        resumed = await second.run("Yes, cancel that reservation.", session_id=run.session_id)
    assert resumed.stop_reason == "policy_end"
    assert airline.env.tools.db.reservations[BIZ].status is None
    assert "transferred to a human" in results(second, run.session_id)[-1].content


async def test_two_sessions_of_one_agent_share_nothing(airline: Airline, tmp_path: Path, counter: Any) -> None:
    script = [call("get_user_details", user_id=USER), answer("Hello Mia."),
              call("get_reservation_details", reservation_id=BIZ), answer("unreached")]
    async with VLLMServer(script=script, counter=counter) as server:
        agent = airline.agent(server.base_url, tmp_path)
        mia = await agent.run(f"I'm {USER}.")
        stranger = await agent.run(f"Show me reservation {BIZ}.")
    assert mia.session_id != stranger.session_id
    refused = results(agent, stranger.session_id)[0]
    assert refused.is_error and "not authenticated" in refused.content


async def test_the_yes_to_a_bag_does_not_release_an_injected_cancel(
        airline: Airline, tmp_path: Path, counter: Any) -> None:
    bags = {"reservation_id": BIZ, "total_baggages": 3, "nonfree_baggages": 0, "payment_id": "credit_card_4421486"}
    proposal = (f"I'll add one bag to reservation {BIZ}: 3 checked bags in total, 0 paid bags, "
                "credit_card_4421486 on file. Shall I proceed?")
    script = [call("get_user_details", user_id=USER), call("get_reservation_details", reservation_id=BIZ),
              answer(proposal), call("update_reservation_baggages", **bags),
              call("cancel_reservation", reservation_id=BIZ), answer("Done.")]
    events: list[Any] = []
    async with VLLMServer(script=script, counter=counter) as server:
        agent = airline.agent(server.base_url, tmp_path)
        run = await agent.run(f"I'm {USER}; I'd like another bag on {BIZ}.")
        async for event in agent.stream("Yes.", session_id=run.session_id):
            events.append(event)
    db = airline.env.tools.db.reservations[BIZ]
    assert db.total_baggages == 3 and db.status is None
    last = results(agent, run.session_id)[-1]
    assert last.is_error and "denied by policy" in last.content and "already used" in last.content
    changes = [e for e in events if isinstance(e, PolicyStateChanged)]
    assert changes and changes[-1].state["confirmations_used"]
