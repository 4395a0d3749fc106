"""Facts shared by one page's panels (kam.core.memo)."""

from kam.core import memo


def test_a_fact_is_computed_once_per_page_and_again_outside_it():
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    with memo.page_scope():
        assert memo.page_fact("n", compute) == 1
        with memo.page_scope():  # a nested scope shares the page's facts
            assert memo.page_fact("n", compute) == 1
        assert memo.page_fact("n", compute) == 1
    assert memo.page_fact("n", compute) == 2
    assert memo.page_fact("n", compute) == 3
    with memo.page_scope():
        assert memo.page_fact("n", compute) == 4
