"""The harness's stand-in for LEAN's ``AlgorithmImports`` module.

Only the names the bot uses, each with LEAN's semantics. ``harness/`` is put on sys.path (by the
runner and the tests) so that ``from AlgorithmImports import *`` in main.py resolves here when
LEAN is not running. Never copy this file to the project root: it would shadow LEAN's own.
Every name below must exist in quantconnect-stubs (tests/test_harness_lean_names.py checks).
"""

# LEAN's own AlgorithmImports (Common/AlgorithmImports.py) also re-exports these Python names.
import json
import math
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd

from harness.lean_commands import Command
from harness.lean_data import (
    Greeks,
    OptionChain,
    OptionChains,
    OptionContract,
    OptionFilterUniverse,
    OptionSymbol,
    Slice,
    TradeBar,
    TradeBars,
)
from harness.lean_enums import (
    DataNormalizationMode,
    Market,
    OptionRight,
    OptionStyle,
    OrderDirection,
    OrderField,
    OrderStatus,
    OrderType,
    Resolution,
    SecurityType,
)
from harness.lean_orders import (
    CashAmount,
    GroupOrderManager,
    Leg,
    MarketOnCloseOrder,
    Order,
    OrderEvent,
    OrderExtensions,
    OrderFee,
    OrderResponse,
    OrderTicket,
    RegressionTestException,
    UpdateOrderFields,
    UpdateOrderRequest,
)
from harness.lean_securities import (
    Equity,
    Option,
    Security,
    SecurityHolding,
    SecurityManager,
    SecurityPortfolioManager,
    SecurityTransactionManager,
    SymbolProperties,
)
from harness.lean_symbols import SecurityIdentifier, Symbol
from harness.lean_time import Extensions, SecurityExchange
from harness.object_store import ObjectStore
from harness.qc_algorithm import QCAlgorithm
from harness.scheduling import DateRules, ScheduleManager, TimeRules

__all__ = [
    "CashAmount", "Command", "DataNormalizationMode", "DateRules", "Equity", "Extensions", "Greeks",
    "GroupOrderManager", "Leg", "Market", "MarketOnCloseOrder", "ObjectStore", "Option", "OptionChain",
    "OptionChains", "OptionContract", "OptionFilterUniverse", "OptionRight", "OptionStyle", "OptionSymbol", "Order",
    "OrderDirection", "OrderEvent", "OrderExtensions", "OrderFee", "OrderField", "OrderResponse", "OrderStatus",
    "OrderTicket", "OrderType", "QCAlgorithm", "RegressionTestException", "Resolution", "ScheduleManager",
    "Security", "SecurityExchange", "SecurityHolding", "SecurityIdentifier", "SecurityManager",
    "SecurityPortfolioManager", "SecurityTransactionManager", "SecurityType", "Slice", "Symbol", "SymbolProperties",
    "TimeRules", "TradeBar", "TradeBars", "UpdateOrderFields", "UpdateOrderRequest",
    # Python names LEAN's AlgorithmImports re-exports (Common/AlgorithmImports.py)
    "date", "datetime", "json", "math", "np", "pd", "time", "timedelta",
]
