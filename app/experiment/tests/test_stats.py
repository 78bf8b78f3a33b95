"""The page's statistics against scipy (a test-only dependency) and hand calculations."""

import math

import pytest
from scipy import stats as sp

from experiment import stats

PROPORTIONS = [(0, 10), (1, 10), (10, 10), (37, 512), (5000, 100000)]
PAIRS = [
    (30, 1000, 45, 1000),
    (120, 2400, 150, 2600),
    (1, 5, 4, 6),
    (0, 100, 5, 100),
    (412, 10000, 398, 9800),
]


def test_z95_is_the_normal_quantile():
    assert stats.Z95 == pytest.approx(sp.norm.ppf(0.975), rel=1e-15)


@pytest.mark.parametrize("z", [-4.0, -1.0, 0.0, 0.5, 1.959963984540054, 3.0, 8.0])
def test_normal_sf_matches_scipy(z):
    assert stats.normal_sf(z) == pytest.approx(sp.norm.sf(z), rel=1e-12)


@pytest.mark.parametrize("successes,trials", PROPORTIONS)
def test_wilson_interval_matches_scipy(successes, trials):
    expected = sp.binomtest(successes, trials).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = stats.wilson_interval(successes, trials)
    assert low == pytest.approx(expected.low, abs=1e-12)
    assert high == pytest.approx(expected.high, abs=1e-12)


def test_wilson_interval_by_hand():
    # 20 of 100, z = 1.96: centre (0.2 + 1.96²/200) / (1 + 1.96²/100), half-width 1.96/(1+1.96²/100) * sqrt(0.0016 + 1.96²/40000).
    z = 1.96
    centre = (0.2 + z * z / 200) / (1 + z * z / 100)
    half = z / (1 + z * z / 100) * math.sqrt(0.2 * 0.8 / 100 + z * z / 40000)
    assert stats.wilson_interval(20, 100, z=z) == pytest.approx((centre - half, centre + half), abs=1e-15)
    assert stats.wilson_interval(20, 100, z=z) == pytest.approx((0.1334, 0.2888), abs=1e-4)


def test_wilson_interval_without_visitors_is_none():
    assert stats.wilson_interval(0, 0) is None


def test_wilson_interval_with_zero_orders_starts_at_zero():
    low, high = stats.wilson_interval(0, 250)
    assert low == 0.0
    assert high == pytest.approx(sp.binomtest(0, 250).proportion_ci(method="wilson").high, abs=1e-12)


@pytest.mark.parametrize("x1,n1,x2,n2", PAIRS)
def test_two_proportion_p_value_matches_scipy_chi_square(x1, n1, x2, n2):
    # The pooled two-sided z-test is the uncorrected 2x2 chi-square test (z² = chi²).
    chi2, p, _dof, _expected = sp.chi2_contingency([[x1, n1 - x1], [x2, n2 - x2]], correction=False)
    result = stats.two_proportion_test(x1, n1, x2, n2)
    assert result.p_value == pytest.approx(p, rel=1e-9)
    assert result.z**2 == pytest.approx(chi2, rel=1e-9)


@pytest.mark.parametrize("x1,n1,x2,n2", PAIRS)
def test_two_proportion_z_by_hand_with_scipy_normal(x1, n1, x2, n2):
    p1, p2, pooled = x1 / n1, x2 / n2, (x1 + x2) / (n1 + n2)
    z = (p2 - p1) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    result = stats.two_proportion_test(x1, n1, x2, n2)
    assert result.z == pytest.approx(z, rel=1e-12)
    assert result.p_value == pytest.approx(2 * sp.norm.sf(abs(z)), rel=1e-9)
    assert result.difference == pytest.approx(p2 - p1, abs=1e-15)


@pytest.mark.parametrize("x1,n1,x2,n2", PAIRS)
def test_difference_interval_is_unpooled_wald(x1, n1, x2, n2):
    p1, p2 = x1 / n1, x2 / n2
    half = sp.norm.ppf(0.975) * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    result = stats.two_proportion_test(x1, n1, x2, n2)
    assert (result.low, result.high) == pytest.approx((p2 - p1 - half, p2 - p1 + half), abs=1e-12)


def test_two_proportion_known_value():
    # 200/2000 vs 250/2000: pooled 0.1125, z = 0.025 / sqrt(0.1125 * 0.8875 * 0.001) = 2.5020; p = 2 * (1 - Phi(2.502)) = 0.01235.
    result = stats.two_proportion_test(200, 2000, 250, 2000)
    assert result.z == pytest.approx(2.5020, abs=1e-4)
    assert result.p_value == pytest.approx(0.01235, abs=1e-5)


def test_two_proportion_without_visitors_is_none():
    assert stats.two_proportion_test(0, 0, 5, 100) is None
    assert stats.two_proportion_test(5, 100, 0, 0) is None


def test_two_proportion_with_zero_orders_everywhere_shows_no_difference():
    result = stats.two_proportion_test(0, 120, 0, 130)
    assert (result.difference, result.z, result.p_value) == (0.0, 0.0, 1.0)
    assert (result.low, result.high) == (0.0, 0.0)


def test_two_proportion_is_symmetric():
    forward = stats.two_proportion_test(30, 1000, 45, 1000)
    backward = stats.two_proportion_test(45, 1000, 30, 1000)
    assert forward.p_value == pytest.approx(backward.p_value, rel=1e-15)
    assert forward.difference == pytest.approx(-backward.difference)


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 8])
@pytest.mark.parametrize("x", [0.0, 1e-6, 0.1, 1.0, 2.5, 3.841458820694124, 7.0, 13.8, 30.0, 100.0, 400.0])
def test_chi2_sf_matches_scipy(df, x):
    assert stats.chi2_sf(x, df) == pytest.approx(sp.chi2.sf(x, df), rel=1e-10, abs=1e-300)


def test_chi2_sf_critical_values():
    assert stats.chi2_sf(3.841458820694124, 1) == pytest.approx(0.05, rel=1e-12)
    assert stats.chi2_sf(13.815510557964274, 2) == pytest.approx(0.001, rel=1e-12)  # 2 df: sf = exp(-x/2)


def test_regularized_gamma_q_rejects_nonpositive_shape():
    with pytest.raises(ValueError):
        stats.regularized_gamma_q(0, 1.0)


@pytest.mark.parametrize("observed,weights", [
    ([340, 330, 330], [34, 33, 33]),
    ([500, 300, 200], [34, 33, 33]),
    ([1010, 990], [50, 50]),
    ([120, 80, 50, 30], [40, 30, 20, 10]),
    ([5, 0, 7], [1, 1, 1]),
])
def test_goodness_of_fit_matches_scipy_chisquare(observed, weights):
    total = sum(observed)
    expected = [total * w / sum(weights) for w in weights]
    reference = sp.chisquare(observed, f_exp=expected)
    result = stats.chi_square_goodness_of_fit(observed, weights)
    assert result.statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert result.df == len(observed) - 1
    assert result.expected == pytest.approx(expected)


def test_goodness_of_fit_by_hand():
    # 60/40 against 50/50 of 100: (10² + 10²) / 50 = 4 on 1 df, p = erfc(sqrt(2)) = 0.0455.
    result = stats.chi_square_goodness_of_fit([60, 40], [1, 1])
    assert result.statistic == pytest.approx(4.0)
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(2)), rel=1e-12)


def test_goodness_of_fit_without_visitors_is_none():
    assert stats.chi_square_goodness_of_fit([0, 0, 0], [34, 33, 33]) is None


def test_goodness_of_fit_of_one_variant_is_none():
    assert stats.chi_square_goodness_of_fit([500], [100]) is None


def test_goodness_of_fit_refuses_zero_weights():
    with pytest.raises(ValueError):
        stats.chi_square_goodness_of_fit([10, 10], [1, 0])
