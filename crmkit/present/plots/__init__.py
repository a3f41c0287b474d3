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
from crmkit.present.plots.health_interactions import (
    plot_interaction_trend,
    plot_interactions_per_customer,
    plot_purchase_after,
    plot_spend_by_category,
)
from crmkit.present.plots.health_score import (
    BAND_COLOURS,
    plot_band_moves,
    plot_churn_by_band,
    plot_health_distribution,
    plot_health_weights,
)
from crmkit.present.plots.health_service import (
    plot_category_resolution,
    plot_resolution_curves,
    plot_service_trend,
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
    "BAND_COLOURS",
    "CJK_FONT",
    "NPS_COLOURS",
    "PALETTE",
    "PERIOD_COLOUR",
    "label_points",
    "legend_beside",
    "plot_band_moves",
    "plot_bars",
    "plot_breakdown",
    "plot_calibration",
    "plot_category_cohorts",
    "plot_category_resolution",
    "plot_churn_by_band",
    "plot_churn_trend",
    "plot_cohort_curves",
    "plot_cohort_heatmap",
    "plot_conversion_window",
    "plot_csat_distribution",
    "plot_cycle_curves",
    "plot_cycle_trend",
    "plot_funnel",
    "plot_group_intervals",
    "plot_health_distribution",
    "plot_health_weights",
    "plot_holdout_by_frequency",
    "plot_importance_performance",
    "plot_interaction_trend",
    "plot_interactions_per_customer",
    "plot_lifetime_curves",
    "plot_lorenz",
    "plot_ltv_cac",
    "plot_metric_cohorts",
    "plot_missing_share",
    "plot_monthly_volume",
    "plot_nps_breakdown",
    "plot_nps_distribution",
    "plot_purchase_after",
    "plot_reason_pareto",
    "plot_resolution_curves",
    "plot_retention_impact",
    "plot_score_trend",
    "plot_service_trend",
    "plot_silhouettes",
    "plot_spend_by_category",
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
