"""The search checks of tests/unit/retrieval/test_search.py that take the `retriever`, run
again on a real `chroma run` server (this folder's conftest): one check, two stores."""

from __future__ import annotations

import pytest

from tests.unit.retrieval.test_search import (  # noqa: F401  (collected here, on the server)
    test_a_narrow_filter_still_fills_the_dense_list,
    test_a_products_own_vector_finds_it_first,
    test_a_query_vector_of_another_dimension_is_a_mismatch,
    test_an_exact_brand_word_is_found_by_bm25,
    test_bad_input_is_a_clear_error,
    test_candidates_serialise_with_the_documented_keys,
    test_every_result_satisfies_every_filter,
    test_excluding_an_unknown_brand_or_id_is_harmless,
    test_filters_that_match_nothing_give_an_empty_list,
    test_results_carry_the_products_fields,
    test_text_query_fuses_dense_and_sparse,
)

pytestmark = pytest.mark.chroma_server
