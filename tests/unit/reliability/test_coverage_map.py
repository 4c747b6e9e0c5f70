"""Where each point of issue 10 items 1-4 and of issue 17 (security hardening) is tested.
Tests that live beside their component are referenced, not copied; this check fails if one
of them is renamed or removed, so the map stays true."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[2]  # tests/: unit/ and integration/

COVERAGE: dict[str, list[str]] = {
    "1 empty, blank, 100 KB, invalid UTF-8, control characters": [
        "unit/reliability/test_hostile_chat.py::test_oversized_invalid_and_control_character_messages",
        "unit/api/test_endpoints.py::test_malformed_bodies_are_4xx_not_crashes",
        "unit/api/test_endpoints.py::test_bad_chat_requests_get_clear_422s",
    ],
    "1 emoji and mixed scripts": [
        "unit/api/test_endpoints.py::test_mixed_scripts_emoji_and_injection_get_bounded_answers",
    ],
    "1 malformed history, 10,000 events": [
        "unit/reliability/test_hostile_chat.py::test_huge_and_malformed_histories_are_refused",
    ],
    "1 absurd filters": ["unit/api/test_endpoints.py::test_bad_recommend_requests_get_422s"],
    "1 prompt injection, no leak, allowed tools only": [
        "unit/reliability/test_hostile_chat.py::"
        "test_an_obedient_llm_reaches_no_other_session_no_unlisted_tool_no_system_prompt",
        "unit/reliability/test_hostile_chat.py::test_a_product_description_with_instructions_stays_data",
    ],
    "1 property test over the request schema": [
        "unit/api/test_schema_properties.py::test_any_recommend_body_is_answered_or_refused_cleanly",
        "unit/api/test_schema_properties.py::test_any_chat_body_is_answered_or_refused_cleanly",
    ],
    "2 LLM down, slow, invalid": [
        "unit/agent/test_degradation.py::test_reduced_mode_answers_with_grounded_products",
        "unit/agent/test_degradation.py::test_a_real_client_against_a_closed_port_is_reduced_mode",
        "unit/serving/test_client.py::test_slow_server_is_reported_as_slow",
    ],
    "2 LLM malformed JSON and tool calls, recovery": [
        "unit/reliability/test_llm_faults.py::test_a_malformed_reply_still_answers_then_recovers",
    ],
    "2 Chroma server down and back": [
        "integration/reliability/test_chroma_outage.py::"
        "test_search_and_recommend_survive_a_chroma_restart",
    ],
    "2 full disk, read-only data dir": [
        "unit/reliability/test_ingest_disk_faults.py::"
        "test_a_full_disk_is_a_clear_error_and_the_next_ingest_completes",
        "unit/reliability/test_ingest_disk_faults.py::"
        "test_a_read_only_store_is_a_clear_error_and_stays_intact",
    ],
    "2 killed ingest, no corrupted store": [
        "unit/retrieval/test_resume.py::test_an_ingest_killed_half_way_still_answers_and_then_resumes",
    ],
    "2 artifact that does not match the catalog": [
        "unit/ranking/test_artifacts.py::test_train_saves_models_that_load_only_for_their_catalog",
    ],
    "2 a ranking worker hangs": [
        "unit/ranking/test_hybrid.py::"
        "test_a_hung_worker_is_killed_and_its_request_refused_as_unavailable",
        "unit/api/test_endpoints.py::test_ranking_that_hangs_is_a_retryable_503_and_chat_still_answers",
    ],
    "2 a ranking worker process dies": [
        "unit/ranking/test_hybrid.py::test_a_dead_worker_is_replaced_and_the_requests_answered",
        "unit/ranking/test_hybrid.py::test_closing_the_pool_ends_its_processes",
    ],
    "3 events durable across kill -9": [
        "unit/api/test_event_durability.py::test_kill_9_during_a_burst_loses_no_acknowledged_event",
    ],
    "4 session isolation": [
        "unit/api/test_isolation_and_limits.py::"
        "test_concurrent_sessions_keep_their_own_history_and_constraints",
        "unit/api/test_isolation_and_limits.py::test_session_ids_are_unguessable_and_expire",
    ],
    "4 staff login": [
        "unit/ui/test_screens.py::test_staff_screens_need_a_login_and_the_shopper_chat_does_not",
        "unit/ui/test_screens.py::test_no_staff_credentials_in_production_means_no_staff_screens",
    ],
    "4 chat rate limit": [
        "unit/api/test_isolation_and_limits.py::test_chat_is_rate_limited_per_client"
    ],
    "4 secrets only from the environment": [
        "unit/reliability/test_secrets.py::"
        "test_no_setting_holds_a_secret_only_the_name_of_its_variable",
        "unit/reliability/test_secrets.py::test_a_secret_in_the_config_file_is_refused",
    ],
    "4 nothing listens beyond loopback": [
        "integration/reliability/test_listening.py::test_a_default_server_listens_on_loopback_only",
    ],
    "17.1 dunder template refused, sandboxed rendering": [
        "unit/reliability/test_template_sandbox.py::"
        "test_validate_refuses_a_template_that_reaches_for_python_internals",
        "unit/reliability/test_template_sandbox.py::"
        "test_a_name_built_at_render_time_is_stopped_by_the_sandbox",
        "unit/reliability/test_template_sandbox.py::"
        "test_a_sandboxed_template_cannot_change_what_it_is_given",
    ],
    "17.1 publishing is a separate, logged step from saving a draft": [
        "unit/reliability/test_template_sandbox.py::test_saving_a_draft_does_not_publish_it",
        "unit/ui/test_screens.py::test_prompt_store_saves_drafts_publishes_diffs_and_rolls_back",
    ],
    "17.2 cross-origin POST to the studio, allowed origins": [
        "unit/reliability/test_staff_screen_attacks.py::test_a_cross_origin_post_to_the_studio_is_refused",
        "unit/reliability/test_staff_screen_attacks.py::"
        "test_an_allowed_origin_may_call_the_api_and_no_other",
    ],
    "17.2 CSRF token on state-changing staff calls": [
        "unit/reliability/test_staff_screen_attacks.py::"
        "test_state_changing_staff_calls_need_the_csrf_token",
    ],
    "17.2 security headers, HSTS over TLS": [
        "unit/reliability/test_staff_screen_attacks.py::test_every_page_carries_the_security_headers",
        "unit/reliability/test_staff_screen_attacks.py::test_hsts_is_sent_over_tls",
    ],
    "17.2 SameSite cookies with idle expiry": [
        "unit/reliability/test_staff_screen_attacks.py::"
        "test_login_cookies_are_same_site_strict_and_expire_when_idle",
    ],
    "17.2 throttled logins per client and per user": [
        "unit/reliability/test_staff_screen_attacks.py::"
        "test_failed_logins_are_throttled_per_client_and_per_user",
    ],
    "17.2 audit log of publish and rollback, shown in the studio": [
        "unit/reliability/test_staff_screen_attacks.py::"
        "test_publish_and_rollback_are_audited_and_shown_in_the_studio",
    ],
    "17.3 forged X-Forwarded-For chain": [
        "unit/reliability/test_abuse_limits.py::"
        "test_a_forged_forwarded_for_chain_does_not_dodge_the_chat_limit",
        "unit/reliability/test_abuse_limits.py::test_the_client_is_read_from_the_right_past_our_proxies",
        "unit/reliability/test_abuse_limits.py::test_a_bad_proxy_setting_is_a_clear_error",
    ],
    "17.3 one client key for the API and the Gradio chat": [
        "unit/reliability/test_abuse_limits.py::test_the_gradio_chat_and_the_api_share_one_bucket",
    ],
    "17.3 per-client buckets for sessions, events, recommend, chat": [
        "unit/reliability/test_abuse_limits.py::"
        "test_sessions_events_and_recommend_have_per_client_buckets",
        "unit/api/test_isolation_and_limits.py::test_chat_is_rate_limited_per_client",
    ],
    "17.3 /v1/sessions flood during an active session": [
        "unit/reliability/test_abuse_limits.py::test_a_sessions_flood_cannot_evict_an_active_shopper",
        "unit/api/test_isolation_and_limits.py::test_session_ids_are_unguessable_and_expire",
    ],
    "17.3 1,000 events to one session, history capped": [
        "unit/reliability/test_abuse_limits.py::test_a_thousand_events_keep_the_history_at_max_history",
    ],
    "17.3 upload attempt on the shopper screen": [
        "unit/reliability/test_staff_screen_attacks.py::test_uploads_are_refused_on_the_shopper_screen",
    ],
    "17.4 disk-full event log: 503 never 201, healthz degraded": [
        "unit/reliability/test_storage_faults.py::"
        "test_a_full_disk_event_log_answers_503_and_healthz_is_degraded",
        "unit/reliability/test_storage_faults.py::"
        "test_low_free_space_or_a_failed_probe_is_degraded_health",
    ],
    "17.5 retrain killed between the two writes": [
        "unit/reliability/test_storage_faults.py::"
        "test_a_retrain_killed_between_the_two_writes_keeps_the_old_model",
    ],
    "17.6 secrets never in repr, session ids hashed in logs": [
        "unit/reliability/test_template_sandbox.py::test_staff_secrets_are_never_in_a_repr",
        "unit/reliability/test_template_sandbox.py::test_session_ids_are_hashed_in_logs",
        "unit/reliability/test_template_sandbox.py::test_turn_traces_name_sessions_by_hash",
    ],
}


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}


@pytest.mark.parametrize("point", sorted(COVERAGE))
def test_each_point_names_tests_that_exist(point: str) -> None:
    for node in COVERAGE[point]:
        file, name = node.split("::")
        assert (TESTS / file).is_file(), f"{point}: {file} is gone"
        assert name in _test_functions(TESTS / file), f"{point}: {node} is gone"
