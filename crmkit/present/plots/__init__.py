"""Charts for the reports: ``ck.plots.plot_x(data, *, ..., ax=None) -> Axes``.

One module per report topic, and :mod:`~crmkit.present.plots.theme` for what they share.
"""

from crmkit.present.plots.churn_drivers import (
    plot_calibration,
    plot_category_cohorts,
    plot_metric_cohorts,
    plot_retention_impact,
)
from crmkit.present.plots.churn_lifetimes import (
    plot_lifetime_curves,
    plot_reason_pareto,
)
from crmkit.present.plots.churn_rates import plot_churn_trend, plot_cohort_heatmap
from crmkit.present.plots.clv import (
    plot_cohort_curves,
    plot_holdout_by_frequency,
    plot_ltv_cac,
    plot_tracking,
    plot_value_distribution,
)
from crmkit.present.plots.funnel import (
    plot_breakdown,
    plot_conversion_window,
    plot_cycle_curves,
    plot_cycle_trend,
    plot_funnel,
    plot_stage_durations,
)
from crmkit.present.plots.quality import (
    plot_missing_share,
    plot_monthly_volume,
)
from crmkit.present.plots.satisfaction import (
    NPS_COLOURS,
    plot_csat_distribution,
    plot_importance_performance,
    plot_nps_breakdown,
    plot_nps_distribution,
    plot_score_trend,
)
from crmkit.present.plots.segmentation import (
    plot_bars,
    plot_lorenz,
    plot_silhouettes,
    plot_transitions,
)
from crmkit.present.plots.theme import (
    CJK_FONT,
    PALETTE,
    PERIOD_COLOUR,
    label_points,
    legend_beside,
    plot_group_intervals,
    register_cjk_font,
    shade_period,
    theme_rc,
    thousands,
    use_theme,
)

__all__ = [
    "CJK_FONT",
    "NPS_COLOURS",
    "PALETTE",
    "PERIOD_COLOUR",
    "label_points",
    "legend_beside",
    "plot_bars",
    "plot_breakdown",
    "plot_calibration",
    "plot_category_cohorts",
    "plot_churn_trend",
    "plot_cohort_curves",
    "plot_cohort_heatmap",
    "plot_conversion_window",
    "plot_csat_distribution",
    "plot_cycle_curves",
    "plot_cycle_trend",
    "plot_funnel",
    "plot_group_intervals",
    "plot_holdout_by_frequency",
    "plot_importance_performance",
    "plot_lifetime_curves",
    "plot_lorenz",
    "plot_ltv_cac",
    "plot_metric_cohorts",
    "plot_missing_share",
    "plot_monthly_volume",
    "plot_nps_breakdown",
    "plot_nps_distribution",
    "plot_reason_pareto",
    "plot_retention_impact",
    "plot_score_trend",
    "plot_silhouettes",
    "plot_stage_durations",
    "plot_tracking",
    "plot_transitions",
    "plot_value_distribution",
    "register_cjk_font",
    "shade_period",
    "theme_rc",
    "thousands",
    "use_theme",
]
