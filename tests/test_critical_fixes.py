# tests/test_critical_fixes.py
"""Tests for P0 critical fixes."""
import pytest
from execution.bot_managed_positions import calculate_close_quantity
from execution.smart_execution import update_average_fill_price
from api.rest_server import ThreadSafeRef


# --- the only addition to the seed's 9.2 block: the MockOrder its fill tests use ---------------
class MockOrder:
    """An order with the two fields ``update_average_fill_price`` reads and updates."""

    def __init__(self, average_fill_price: float, filled_quantity: int) -> None:
        self.average_fill_price = average_fill_price
        self.filled_quantity = filled_quantity
# --- end of the addition; the rest is the seed's text, verbatim --------------------------------

class TestPositionSizingFix:
    """Test cases for position sizing truncation fix."""

    def test_small_position_skip_partial_close(self):
        """1-contract position should skip 30% profit-take."""
        result = calculate_close_quantity(1, 0.30)
        assert result == 0, "Should skip profit-take for small positions"

    def test_small_position_full_close(self):
        """1-contract position should allow 100% close."""
        result = calculate_close_quantity(1, 1.00)
        assert result == 1

    def test_medium_position_partial_close(self):
        """10-contract position at 30% should close 3."""
        result = calculate_close_quantity(10, 0.30)
        assert result == 3

    def test_large_position_partial_close(self):
        """100-contract position at 25% should close 25."""
        result = calculate_close_quantity(100, 0.25)
        assert result == 25

    @pytest.mark.parametrize("qty,pct,expected", [
        (1, 0.10, 0),   # Skip
        (1, 0.50, 0),   # Skip
        (2, 0.50, 1),   # Close 1
        (3, 0.33, 1),   # Close 1
        (5, 0.20, 1),   # Close 1
        (10, 0.10, 1),  # Close 1
    ])
    def test_edge_cases(self, qty, pct, expected):
        """Test various edge cases."""
        result = calculate_close_quantity(qty, pct)
        assert result == expected


class TestFillPriceCalculationFix:
    """Test cases for fill price calculation fix."""

    def test_first_fill(self):
        """First fill should set average to fill price."""
        order = MockOrder(average_fill_price=0, filled_quantity=0)
        result = update_average_fill_price(order, 100.0, 10)
        assert result == 100.0
        assert order.filled_quantity == 10

    def test_equal_fills(self):
        """Two equal fills at different prices."""
        order = MockOrder(average_fill_price=100.0, filled_quantity=10)
        result = update_average_fill_price(order, 110.0, 10)
        # (100*10 + 110*10) / 20 = 105
        assert result == 105.0
        assert order.filled_quantity == 20

    def test_unequal_fills(self):
        """Fills with different quantities."""
        order = MockOrder(average_fill_price=100.0, filled_quantity=20)
        result = update_average_fill_price(order, 120.0, 10)
        # (100*20 + 120*10) / 30 = 3200/30 = 106.67
        assert abs(result - 106.67) < 0.01
        assert order.filled_quantity == 30


class TestThreadSafeRef:
    """Test cases for thread-safe reference wrapper."""

    def test_set_and_get(self):
        """Basic set and get."""
        ref = ThreadSafeRef("test")
        ref.set("value")
        assert ref.get() == "value"

    def test_double_set_raises(self):
        """Cannot set twice."""
        ref = ThreadSafeRef("test")
        ref.set("value1")
        with pytest.raises(RuntimeError):
            ref.set("value2")

    def test_get_before_set_timeout(self):
        """Get before set should timeout."""
        ref = ThreadSafeRef("test")
        with pytest.raises(RuntimeError):
            ref.get(timeout=0.1)

    def test_concurrent_access(self):
        """Thread safety under concurrent access."""
        import threading

        ref = ThreadSafeRef("test")
        ref.set({"counter": 0})
        errors = []

        def increment():
            try:
                with ref.access() as value:
                    value["counter"] += 1
            except Exception as e:
                errors.append(e)

        threads = [threading.Thread(target=increment) for _ in range(100)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        assert not errors
        assert ref.get()["counter"] == 100
