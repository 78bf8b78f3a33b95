"""The page's statistics against scipy (a test-only dependency) and hand calculations."""

import math

import pytest
from scipy import stats as sp

from experiment import intervals, sequential

PROPORTIONS = [(0, 10), (1, 10), (10, 10), (37, 512), (5000, 100000)]
PAIRS = [
    (30, 1000, 45, 1000),
    (120, 2400, 150, 2600),
    (1, 5, 4, 6),
    (0, 100, 5, 100),
    (412, 10000, 398, 9800),
]


def test_z95_is_the_normal_quantile():
    assert intervals.Z95 == pytest.approx(sp.norm.ppf(0.975), rel=1e-15)


@pytest.mark.parametrize("z", [-4.0, -1.0, 0.0, 0.5, 1.959963984540054, 3.0, 8.0])
def test_normal_sf_matches_scipy(z):
    assert intervals.normal_sf(z) == pytest.approx(sp.norm.sf(z), rel=1e-12)


@pytest.mark.parametrize("successes,trials", PROPORTIONS)
def test_wilson_interval_matches_scipy(successes, trials):
    expected = sp.binomtest(successes, trials).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = intervals.wilson_interval(successes, trials)
    assert low == pytest.approx(expected.low, abs=1e-12)
    assert high == pytest.approx(expected.high, abs=1e-12)


def test_wilson_interval_by_hand():
    # 20 of 100, z = 1.96: centre (0.2 + 1.96²/200) / (1 + 1.96²/100), half-width 1.96/(1+1.96²/100) * sqrt(0.0016 + 1.96²/40000).
    z = 1.96
    centre = (0.2 + z * z / 200) / (1 + z * z / 100)
    half = z / (1 + z * z / 100) * math.sqrt(0.2 * 0.8 / 100 + z * z / 40000)
    assert intervals.wilson_interval(20, 100, z=z) == pytest.approx((centre - half, centre + half), abs=1e-15)
    assert intervals.wilson_interval(20, 100, z=z) == pytest.approx((0.1334, 0.2888), abs=1e-4)


def test_wilson_interval_without_visitors_is_none():
    assert intervals.wilson_interval(0, 0) is None


def test_wilson_interval_with_zero_orders_starts_at_zero():
    low, high = intervals.wilson_interval(0, 250)
    assert low == 0.0
    assert high == pytest.approx(sp.binomtest(0, 250).proportion_ci(method="wilson").high, abs=1e-12)


@pytest.mark.parametrize("x1,n1,x2,n2", PAIRS)
def test_newcombe_interval_matches_statsmodels(x1, n1, x2, n2):
    from statsmodels.stats.proportion import confint_proportions_2indep

    low, high = confint_proportions_2indep(x2, n2, x1, n1, method="newcomb", compare="diff")
    assert intervals.newcombe_interval(x1, n1, x2, n2) == pytest.approx((low, high), abs=1e-12)


def test_newcombe_interval_keeps_its_width_at_zero_and_full_conversion():
    low, high = intervals.newcombe_interval(0, 50, 0, 50)
    assert low < 0 < high
    low, high = intervals.newcombe_interval(50, 50, 50, 50)
    assert low < 0 < high


def test_newcombe_interval_without_visitors_is_none():
    assert intervals.newcombe_interval(0, 0, 5, 100) is None


@pytest.mark.parametrize("q", [0.001, 0.025, 0.5, 0.8, 0.975, 0.9999])
def test_normal_ppf_matches_scipy(q):
    assert intervals.normal_ppf(q) == pytest.approx(sp.norm.ppf(q), abs=1e-12)


@pytest.mark.parametrize("estimate,variance,tau2", [(0.0, 1e-4, 1e-5), (0.01, 2e-5, 2.5e-5), (-0.03, 1e-4, 4e-6), (0.5, 0.01, 0.04)])
def test_mixture_likelihood_ratio_is_the_integral_over_the_mixture(estimate, variance, tau2):
    # Lambda = integral of N(estimate; effect, V) / N(estimate; 0, V) over effect ~ N(0, tau2), by quadrature.
    from scipy.integrate import quad

    def integrand(effect):
        return (
            sp.norm.pdf(estimate, effect, math.sqrt(variance))
            / sp.norm.pdf(estimate, 0, math.sqrt(variance))
            * sp.norm.pdf(effect, 0, math.sqrt(tau2))
        )

    sd = math.sqrt(tau2)
    value, _ = quad(integrand, -12 * sd, 12 * sd, points=[estimate], limit=200)
    assert sequential.mixture_log_likelihood_ratio(estimate, variance, tau2) == pytest.approx(math.log(value), abs=1e-7)


@pytest.mark.parametrize("estimate", [0.0, 0.004, 0.008, 0.012, -0.02])
def test_always_valid_p_is_below_alpha_exactly_when_the_interval_excludes_zero(estimate):
    variance, tau2 = 1.5e-5, 2.5e-5
    half = sequential.always_valid_half_width(variance, tau2, 0.05)
    assert (sequential.always_valid_p(estimate, variance, tau2) < 0.05) == (abs(estimate) > half)


def test_always_valid_interval_is_wider_than_the_fixed_horizon_one():
    variance = 1e-5
    assert sequential.always_valid_half_width(variance, 2e-5, 0.05) > intervals.Z95 * math.sqrt(variance)


@pytest.mark.parametrize("p_values", [[0.01, 0.04, 0.03, 0.2], [0.5, 0.001, 0.001, 0.02, 0.049, 1.0], [0.04]])
def test_holm_matches_statsmodels(p_values):
    from statsmodels.stats.multitest import multipletests

    _reject, adjusted, _, _ = multipletests(p_values, method="holm")
    assert sequential.holm_adjust(p_values) == pytest.approx(list(adjusted), abs=1e-15)


def test_decide_names_no_winner_on_a_single_tiny_row():
    arms = [sequential.Arm(1, 0, 0.0, 0.0), sequential.Arm(1, 1, 20.0, 400.0)]
    decision = sequential.decide(arms, mde=0.1)
    assert decision.winners == {"conversion": -1, "revenue": -1}


def test_decide_names_the_variant_that_beats_every_other_one():
    arms = [
        sequential.Arm(20000, 1000, 25000.0, 1.2e6),
        sequential.Arm(20000, 1400, 35000.0, 1.7e6),
        sequential.Arm(20000, 1010, 25250.0, 1.2e6),
    ]
    decision = sequential.decide(arms, mde=0.1)
    assert decision.winners["conversion"] == 1
    # B is tested against the runner-up C too, not only against the control.
    assert decision.test(1, 2, "conversion").significant()


def test_decide_names_no_winner_when_two_variants_tie_above_the_control():
    arms = [sequential.Arm(20000, 1000, 0.0, 0.0), sequential.Arm(20000, 1400, 0.0, 0.0), sequential.Arm(20000, 1390, 0.0, 0.0)]
    decision = sequential.decide(arms, mde=0.1, metrics=("conversion",))
    assert decision.test(0, 1, "conversion").significant() and decision.test(0, 2, "conversion").significant()
    assert decision.winners["conversion"] == -1


def test_revenue_moments_are_welch_from_per_visitor_sums():
    values = [0.0] * 95 + [10.0, 20.0, 30.0, 15.0, 25.0]
    mean, variance = sequential.arm_moments(sequential.Arm(100, 5, sum(values), sum(v * v for v in values)), "revenue")
    assert mean == pytest.approx(sum(values) / 100)
    assert variance == pytest.approx(sp.describe(values).variance)


def test_visitors_needed_reaches_the_power_it_states():
    total = sequential.visitors_needed(0.05, 0.1, 0.5, 0.5, 0.05)
    assert sequential.detection_probability(0.05, 0.1, total * 0.5, total * 0.5, 0.05) == pytest.approx(sequential.POWER, abs=1e-3)
    # A sequential test pays for peeking: more visitors than the fixed-horizon two-sample z-test needs.
    z = sp.norm.ppf(0.975) + sp.norm.ppf(0.8)
    fixed = 2 * (z**2) * (0.05 * 0.95 + 0.055 * 0.945) / 0.005**2
    assert total > fixed


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 8])
@pytest.mark.parametrize("x", [0.0, 1e-6, 0.1, 1.0, 2.5, 3.841458820694124, 7.0, 13.8, 30.0, 100.0, 400.0])
def test_chi2_sf_matches_scipy(df, x):
    assert intervals.chi2_sf(x, df) == pytest.approx(sp.chi2.sf(x, df), rel=1e-10, abs=1e-300)


def test_chi2_sf_critical_values():
    assert intervals.chi2_sf(3.841458820694124, 1) == pytest.approx(0.05, rel=1e-12)
    assert intervals.chi2_sf(13.815510557964274, 2) == pytest.approx(0.001, rel=1e-12)  # 2 df: sf = exp(-x/2)


def test_regularized_gamma_q_rejects_nonpositive_shape():
    with pytest.raises(ValueError):
        intervals.regularized_gamma_q(0, 1.0)


@pytest.mark.parametrize(
    "observed,weights",
    [
        ([340, 330, 330], [34, 33, 33]),
        ([500, 300, 200], [34, 33, 33]),
        ([1010, 990], [50, 50]),
        ([120, 80, 50, 30], [40, 30, 20, 10]),
        ([5, 0, 7], [1, 1, 1]),
    ],
)
def test_goodness_of_fit_matches_scipy_chisquare(observed, weights):
    total = sum(observed)
    expected = [total * w / sum(weights) for w in weights]
    reference = sp.chisquare(observed, f_exp=expected)
    result = intervals.chi_square_goodness_of_fit(observed, weights)
    assert result.statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert result.df == len(observed) - 1
    assert result.expected == pytest.approx(expected)


def test_goodness_of_fit_by_hand():
    # 60/40 against 50/50 of 100: (10² + 10²) / 50 = 4 on 1 df, p = erfc(sqrt(2)) = 0.0455.
    result = intervals.chi_square_goodness_of_fit([60, 40], [1, 1])
    assert result.statistic == pytest.approx(4.0)
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(2)), rel=1e-12)


def test_goodness_of_fit_without_visitors_is_none():
    assert intervals.chi_square_goodness_of_fit([0, 0, 0], [34, 33, 33]) is None


def test_goodness_of_fit_of_one_variant_is_none():
    assert intervals.chi_square_goodness_of_fit([500], [100]) is None


def test_goodness_of_fit_refuses_zero_weights():
    with pytest.raises(ValueError):
        intervals.chi_square_goodness_of_fit([10, 10], [1, 0])
