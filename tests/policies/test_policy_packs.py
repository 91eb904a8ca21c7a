"""Packs: built-in and user folders, manifests turned into rules, clear errors for bad packs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from m1agent.policies.pack import PackError, load_pack
from m1agent.policies.view import DictView

from m1agent.messages import AssistantMessage, UserMessage
from m1agent.protocol.types import ToolCallPart
from m1agent.tool import ToolReturn


def test_builtin_packs_load_with_their_rules() -> None:
    airline = load_pack("airline")
    assert airline.clock == datetime(2024, 5, 15, 15, 0)
    assert "cancel_reservation" in airline.write_tools
    names = [rule.name for rule in airline.rules()]
    for expected in ("one_call_per_turn", "post_transfer_stop", "authentication", "same_user",
                     "read_before_write", "cancel_eligibility", "confirmation"):
        assert expected in names
    retail = load_pack("retail")
    assert "item_change_allowed" in [rule.name for rule in retail.rules()]
    assert retail.clock is None


def test_policy_text_comes_from_the_installed_tau2_package() -> None:
    text = load_pack("airline").policy_text()
    assert "# Airline Agent Policy" in text and "2024-05-15 15:00:00 EST" in text
    assert "Retail" in load_pack("retail").policy_text()


def test_a_user_pack_folder_with_its_own_predicate(tmp_path: Path) -> None:
    (tmp_path / "pack.toml").write_text(
        'name = "library"\nwrite_tools = ["renew"]\n'
        '[[predicates]]\ntools = ["renew"]\nfunction = "not_overdue"\n'
        '[confirmation.key_args]\nrenew = ["loan_id"]\n'
    )
    (tmp_path / "predicates.py").write_text(
        "def not_overdue(call, ctx):\n"
        "    loan = ctx.view.get('loans', call.arguments.get('loan_id'))\n"
        "    return 'Overdue loans cannot be renewed.' if loan and loan['overdue'] else None\n"
    )
    pack = load_pack(tmp_path)
    engine = pack.build_engine(view=DictView({"loans": {"L1": {"overdue": True}, "L2": {"overdue": False}}}))
    history = [AssistantMessage(text="Renew loans L1 and L2?"), UserMessage("yes")]
    assert engine.check_call(ToolCallPart("renew", {"loan_id": "L1"}), history).reason == (
        "Overdue loans cannot be renewed."
    )
    assert engine.check_call(ToolCallPart("renew", {"loan_id": "L2"}), history).action == "allow"
    engine.after_call(ToolCallPart("renew", {"loan_id": "L2"}), ToolReturn("ok"), history)


def test_bad_packs_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(PackError, match="no built-in policy pack named 'nope'"):
        load_pack("nope")
    with pytest.raises(PackError, match=r"has no pack\.toml"):
        load_pack(tmp_path)
    (tmp_path / "pack.toml").write_text("name = [")
    with pytest.raises(PackError, match="not valid TOML"):
        load_pack(tmp_path)
    (tmp_path / "pack.toml").write_text('[[predicates]]\ntools = ["x"]\nfunction = "missing"\n')
    with pytest.raises(PackError, match=r"predicates\.py does not define"):
        load_pack(tmp_path).rules()


def test_the_readme_pack_example_works(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("**Writing a pack.**", 1)[1]
    manifest = section.split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "pack.toml").write_text(manifest)
    (tmp_path / "predicates.py").write_text(
        "def not_overdue(call, ctx):\n"
        "    loan = ctx.view.get('loans', call.arguments.get('loan_id'))\n"
        "    return 'That loan is overdue.' if loan and loan.get('overdue') else None\n"
    )
    pack = load_pack(tmp_path)
    view = DictView({"loans": {"L1": {"member_id": "m1", "overdue": False}, "L2": {"member_id": "m2"}}})
    engine = pack.build_engine(view=view)
    history: list = [UserMessage("I'm Ann, member m1")]
    find = ToolCallPart("find_member", {"name": "Ann"}, "c1")
    assert engine.check_call(find, history).action == "allow"
    engine.after_call(find, ToolReturn("m1"), history)
    get = ToolCallPart("get_loan", {"loan_id": "L1"}, "c2")
    assert engine.check_call(get, history).action == "allow"
    engine.after_call(get, ToolReturn("{}"), history)
    history += [AssistantMessage(text="Renew loan L1 for 2 weeks?"), UserMessage("Yes please")]
    renew = ToolCallPart("renew_loan", {"loan_id": "L1", "weeks": 2}, "c3")
    assert engine.check_call(renew, history).action == "allow"
    assert engine.check_call(ToolCallPart("renew_loan", {"loan_id": "L1", "weeks": 9}), history).rule == (
        "arg_renew_loan_weeks")
    assert engine.check_call(ToolCallPart("get_loan", {"loan_id": "L2"}), history).rule == "same_user"
    assert pack.clock is not None and engine.now == pack.clock


def test_the_airline_manifest_agrees_with_tau2s_own_write_tools() -> None:
    from m1agent.policies.tau.domain import TauDomain

    for name in ("airline", "retail"):
        env = TauDomain(name).new_env()
        assert load_pack(name).write_tools == TauDomain.write_tools(env)
        engine = load_pack(name).build_engine(write_tools=["extra_tool"])
        assert "extra_tool" in engine.write_tools
