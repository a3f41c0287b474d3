import numpy as np
import pytest

from crmkit.metrics.stats import wilson_interval
from crmkit.present.plots.churn_drivers import _error_bars


def test_cohort_error_bars_never_go_negative_at_a_rate_of_one():
    full = wilson_interval(30, 30)
    bars = _error_bars(np.array([1.0]), [full.low], [1.0 - 1e-12])
    assert (bars >= 0).all()
    assert bars[0, 0] == pytest.approx(1.0 - full.low)
