import numpy as np
import pytest

from crmkit.metrics.stats import wilson_interval
from crmkit.present.plots.churn_drivers import _error_bars


def test_cohort_error_bars_never_go_negative_at_a_rate_of_one():
    full = wilson_interval(30, 30)
    bars = _error_bars(np.array([1.0]), [full.low], [1.0 - 1e-12])
    assert (bars >= 0).all()
    assert bars[0, 0] == pytest.approx(1.0 - full.low)


def test_a_psychographic_attribute_reads_as_words_in_both_reports():
    """The data names its psy_ columns; both reports show them the same way, without the
    prefix or underscores (the churn chart read "brand_affinity：1" on a Chinese page)."""
    import pandas as pd

    from crmkit.metrics.segmentation import SegmentationAnalysis
    from crmkit.present.language import language
    from crmkit.present.plots.churn_drivers import driver_name, feature_name
    from crmkit.topics.segmentation_tables import psychographic_table

    assert feature_name("psy_brand_affinity") == "brand affinity"
    with language("zh"):
        assert driver_name("psy_brand_affinity", "category", 1).startswith("brand affinity")
    fake = SegmentationAnalysis.__new__(SegmentationAnalysis)
    object.__setattr__(
        fake, "psychographic", pd.DataFrame({"group": [0], "psy_price_sensitivity": [0.4]})
    )
    assert list(psychographic_table(fake).columns) == ["behaviour_group", "price sensitivity"]
