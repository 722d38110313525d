import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnlib
from nnlib import bugs, gradcheck, model
from nnlib.gradcheck import CostFunction, gradient_check, numeric_grad_fast, numeric_grad_loop


def _batch(mnist, m, seed, sizes=model.LAYER_SIZES):
    X, Y, _ = mnist["train"]
    return model.init_params(np.random.default_rng(seed), sizes), X[:, :m], Y[:, :m]


@pytest.mark.parametrize("seed, m", [(0, 1), (1, 8), (2, 64), (3, 200)])
def test_correct_backprop_passes_the_full_check(mnist, seed, m):
    report = gradient_check(*_batch(mnist, m, seed), method="fast")
    assert report.passed and report.difference < 2e-7, report


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), m=st.integers(1, 40), start=st.integers(0, 3900))
def test_correct_backprop_passes_on_any_batch(mnist, seed, m, start):
    X, Y, _ = mnist["train"]
    params = model.init_params(np.random.default_rng(seed))
    assert gradient_check(params, X[:, start:start + m], Y[:, start:start + m]).passed


def test_a_row_is_printed_to_6_decimals_because_its_7th_is_rounding_noise():
    # the lab's W2 row with shallow_copy on (25 entries, M = 64) measured 1/3 - 1.2e-8 to 1/3 + 1.7e-8
    # under five OpenBLAS kernels: at 7 decimals 0.3333334 under SkylakeX, 0.3333333 under the others
    assert gradcheck.format_difference(1 / 3 + 2e-8) == "0.3333334"
    assert gradcheck.format_row_difference(1 / 3 + 2e-8) == gradcheck.format_row_difference(1 / 3 - 2e-8) == "0.333333"
    assert gradcheck.format_row_difference(2.345e-8) == "2.3e-08" and gradcheck.format_row_difference(np.nan) == "nan"


def test_fast_numeric_gradient_equals_the_loop(mnist):
    params, X, Y = _batch(mnist, 8, 4)
    loop, _ = numeric_grad_loop(CostFunction(X, Y), params)
    fast = numeric_grad_fast(params, X, Y)
    assert max(np.abs(loop[k] - fast[k]).max() for k in loop) < 1e-7


def test_fast_equals_loop_with_frozen_dropout_and_a_deeper_net(mnist):
    params, X, Y = _batch(mnist, 6, 5, sizes=(784, 8, 6, 10))
    masks = model.draw_masks(params, 6, 0.7, np.random.default_rng(0))
    loop, _ = numeric_grad_loop(CostFunction(X, Y, 0.7, masks), params)
    fast = numeric_grad_fast(params, X, Y, 0.7, masks)
    assert max(np.abs(loop[k] - fast[k]).max() for k in loop) < 1e-7


def test_loop_fast_sampled_and_directional_agree(mnist):
    params, X, Y = _batch(mnist, 8, 6)
    reports = {m: gradient_check(params, X, Y, method=m, rng=np.random.default_rng(0))
               for m in gradcheck.METHODS}
    assert all(r.passed for r in reports.values()), {m: r.difference for m, r in reports.items()}
    assert reports["loop"].forward_passes == 2 * 7960 + 2  # + J(theta) twice: is the cost repeatable?
    with bugs.enabled("stray_inv_m"):
        d = {m: gradient_check(params, X, Y, method=m, rng=np.random.default_rng(0)).difference
             for m in gradcheck.METHODS}
    assert all(v == pytest.approx(7 / 9, abs=1e-7) for v in d.values()), d


def test_deeper_network_passes_and_every_bug_still_shows(mnist):
    params, X, Y = _batch(mnist, 5, 7, sizes=(784, 12, 8, 10))
    assert gradient_check(params, X, Y).passed
    with bugs.enabled("missing_relu_mask"):
        assert not gradient_check(params, X, Y).passed


@pytest.mark.parametrize("m", [1, 2, 8, 64])
@pytest.mark.parametrize("seed", [0, 11])
def test_stray_inv_m_gives_exactly_m_minus_1_over_m_plus_1(mnist, m, seed):
    with bugs.enabled("stray_inv_m"):
        report = gradient_check(*_batch(mnist, m, seed))
    # exact in theory; the numeric gradient's rounding, which differs between CPUs, moves it by about 1e-10
    assert report.difference == pytest.approx((m - 1) / (m + 1), abs=1e-7)
    assert report.passed == (m == 1)  # at M = 1 dividing by M changes nothing: the bug hides


@pytest.mark.parametrize("m, seed", [(4, 0), (8, 3), (64, 9)])
def test_shallow_copy_gives_one_third(mnist, m, seed):
    with bugs.enabled("shallow_copy"):
        report = gradient_check(*_batch(mnist, m, seed), method="sampled", k=30,
                                rng=np.random.default_rng(seed))
    # 1/3 up to the leaked step's truncation and the rounding of the numeric gradient: a few 1e-8, CPU to CPU
    assert report.difference == pytest.approx(1 / 3, abs=1e-6)
    assert report.params_written
    assert "half the analytic" in " ".join(report.diagnosis)


def test_shallow_copy_full_loop_is_one_third_and_leaves_params_alone(mnist):
    params, X, Y = _batch(mnist, 8, 2)
    before = {k: v.copy() for k, v in params.items()}
    with bugs.enabled("shallow_copy"):
        report = gradient_check(params, X, Y, method="loop")
    assert report.difference == pytest.approx(1 / 3, abs=1e-6) and report.params_written
    assert all(np.array_equal(params[k], before[k]) for k in params)


def test_guard_restores_params_that_a_leaky_check_changed(mnist):
    params, X, Y = _batch(mnist, 8, 1)
    # (b + eps) - eps is not b again for tiny b, so a leaky copy leaves them changed
    params["b1"] = np.linspace(1e-9, 3e-8, 10).reshape(10, 1)
    before = {k: v.copy() for k, v in params.items()}
    with bugs.enabled("shallow_copy"):
        report = gradient_check(params, X, Y, method="sampled", k=10, rng=np.random.default_rng(0))
    assert not report.params_unchanged and report.params_written
    assert "had changed" in report.diagnosis[0]
    assert all(np.array_equal(params[k], before[k]) for k in params)


@pytest.mark.parametrize("method", gradcheck.METHODS)
def test_every_method_leaves_params_bit_for_bit_unchanged(mnist, method):
    params, X, Y = _batch(mnist, 4, 3)
    before = {k: v.copy() for k, v in params.items()}
    report = gradient_check(params, X, Y, method=method, rng=np.random.default_rng(1))
    assert report.params_unchanged and not report.params_written
    assert all(np.array_equal(params[k], before[k]) for k in params)


def test_frozen_masks_pass_and_fresh_masks_fail_with_the_masks_blamed(mnist):
    params, X, Y = _batch(mnist, 16, 8)
    frozen = gradient_check(params, X, Y, keep_prob=0.8, rng=np.random.default_rng(0))
    fresh = gradient_check(params, X, Y, method="sampled", keep_prob=0.8, masks="fresh",
                           rng=np.random.default_rng(0))
    assert frozen.passed and not fresh.passed
    assert "masks" in fresh.diagnosis[0] and "not backprop" in fresh.diagnosis[0]


def test_check_reports_an_inplace_derivative_that_it_cannot_see(mnist):
    with bugs.enabled("inplace_relu_deriv_z"):
        report = gradient_check(*_batch(mnist, 8, 0))
    assert report.passed and not report.cache_intact and report.changed_cache_keys == ["Z1"]
    assert "in-place" in report.diagnosis[0]


def test_per_parameter_table_has_one_line_per_parameter(mnist):
    report = gradient_check(*_batch(mnist, 8, 0))
    lines = report.table().splitlines()
    assert [line.split()[0] for line in lines[2:]] == ["W1", "b1", "W2", "b2"]
    assert all(line.endswith("ok") for line in lines[2:])


@pytest.mark.parametrize("kwargs, message", [
    (dict(method="newton"), "unknown method"),
    (dict(epsilon=0), "epsilon"),
    (dict(keep_prob=1.2), "keep_prob"),
    (dict(keep_prob=0.5), "rng"),
    (dict(masks="fresh"), "dropout"),
    (dict(masks="sometimes"), "frozen"),
    (dict(method="fast", keep_prob=0.5, masks="fresh", rng=np.random.default_rng(0)), "fast check"),
    (dict(method="sampled", k=0, rng=np.random.default_rng(0)), "k "),
])
def test_bad_check_arguments_are_explained(mnist, kwargs, message):
    with pytest.raises(ValueError, match=message):
        gradient_check(*_batch(mnist, 4, 0), **kwargs)


@pytest.mark.parametrize("epsilon", [1e-7, 1e-3])
def test_float32_is_refused_and_the_advice_works(mnist, epsilon):
    params, X, Y = _batch(mnist, 4, 0)
    params32 = {k: v.astype(np.float32) for k, v in params.items()}
    # float32 with eps = 1e-3 used to be allowed and failed correct backprop (7.8e-7)
    with pytest.raises(ValueError, match="float64") as err:
        gradient_check(params32, X, Y, epsilon=epsilon)
    assert "astype(np.float64)" in str(err.value)
    fixed = {k: v.astype(np.float64) for k, v in params32.items()}  # the advice, applied
    assert gradient_check(fixed, X, Y, epsilon=epsilon if epsilon < 1e-3 else 1e-7).passed


def test_epsilon_sweep_is_a_v_curve_and_float32_bottoms_out_higher(mnist):
    params, X, Y = _batch(mnist, 16, 0)
    eps, d64 = nnlib.epsilon_sweep(params, X, Y)
    _, d32 = nnlib.epsilon_sweep(params, X, Y, dtype=np.float32)
    best64 = eps[np.argmin(d64)]
    assert d64.min() < 1e-9 and 1e-8 <= best64 <= 1e-3
    assert d64[0] > 100 * d64.min() and d64[-1] > 100 * d64.min()  # both arms of the V
    assert d32.min() > 100 * d64.min() and eps[np.argmin(d32)] > best64


def test_a_relu_kink_is_reported_as_the_cause(mnist):
    params, X, Y = _batch(mnist, 8, 0)
    Z1 = model.forward(params, X)["Z1"]
    i = int(np.argmax(Z1[:, 0] > 0))
    params["b1"][i, 0] -= Z1[i, 0] - 3e-8  # unit i of example 0 now sits 3e-8 above the kink
    report = gradient_check(params, X, Y)
    assert not report.passed and report.kinks == 1
    assert any("kink" in line for line in report.diagnosis)
    assert gradient_check(*_batch(mnist, 8, 0)).kinks == 0


@pytest.mark.parametrize("bug", ["inplace_relu_deriv", "missing_relu_mask", "key_order_mismatch"])
def test_sampled_check_at_one_example_never_crashes(bug):
    # at M = 1 most of dW1 is exactly 0; 28 of 320 such runs once ended in a KeyError
    from nnlib import experiment
    for seed in range(40):
        report = experiment.run([bug], batch=1, seed=seed, method="sampled")
        assert report.diagnosis and np.isfinite(report.difference)
        w1 = report.per_parameter[0]
        assert np.isfinite(w1.ratio), (seed, w1)  # the sample includes entries that test something


def test_nan_gradients_never_pass(mnist):
    params, X, Y = _batch(mnist, 8, 0)
    huge = {k: v * 1e200 for k, v in params.items()}
    report = gradient_check(huge, X, Y)
    assert not report.passed and report.nonfinite
    assert "NaN or infinity" in report.diagnosis[0]
    assert np.isnan(gradcheck.relative_difference([np.nan], [1.0]))
    assert np.isnan(gradcheck.relative_difference([1.0], [np.inf]))


@pytest.mark.parametrize("epsilons", [[0.0], [np.nan], [-1e-7], []])
def test_epsilon_sweep_refuses_meaningless_epsilons(mnist, epsilons):
    with pytest.raises(ValueError, match="epsilons"):
        nnlib.epsilon_sweep(*_batch(mnist, 4, 0), epsilons=epsilons)


def test_an_interrupted_leaky_check_still_restores_the_parameters(mnist):
    params, X, Y = _batch(mnist, 4, 0)
    before = {k: v.copy() for k, v in params.items()}
    J = CostFunction(X, Y)

    def interrupted(p):  # Ctrl-C arrives while J(theta+eps) runs: theta+eps sits in the shared array
        if J.calls == 4:
            raise KeyboardInterrupt
        return J(p)

    grads = model.backward(params, model.forward(params, X), Y)
    with bugs.enabled("shallow_copy"), pytest.raises(KeyboardInterrupt):
        gradcheck.check_gradients(interrupted, params, {k: grads["d" + k] for k in params}, method="loop")
    assert all(np.array_equal(params[k], before[k]) for k in params)


def test_a_long_loop_shows_a_progress_bar_and_a_short_one_does_not(monkeypatch, capsys):
    from nnlib import checks
    monkeypatch.setenv("NNLIB_PROGRESS", "1")
    params = {"w": np.zeros(40)}
    ticks = iter(range(10_000))
    monkeypatch.setattr(checks.time, "perf_counter", lambda: float(next(ticks)))  # the first 8 entries "take" 1 s
    checks.numeric_gradient(lambda p: float(p["w"].sum()), params)
    assert "gradient check" in capsys.readouterr().err  # 40 entries at 1/8 s: 5 s expected
    monkeypatch.setattr(checks.time, "perf_counter", lambda: 0.0)  # instant
    checks.numeric_gradient(lambda p: float(p["w"].sum()), params)
    assert "gradient check" not in capsys.readouterr().err


def test_tiny_gradients_do_not_underflow_into_a_pass():
    assert gradcheck.relative_difference([2e-300], [1e-300]) == pytest.approx(1 / 3)
    assert gradcheck.relative_difference([0.0], [0.0]) == 0.0


@pytest.mark.parametrize("kwargs, message", [
    (dict(rng=0), "rng"), (dict(epsilons=["a"]), "epsilons"), (dict(epsilons=[1e300]), "epsilons"),
    (dict(dtype=int), "dtype"), (dict(dtype="float16"), "dtype")])
def test_epsilon_sweep_refuses_what_it_cannot_use(mnist, kwargs, message):
    with pytest.raises(ValueError, match=message):
        nnlib.epsilon_sweep(*_batch(mnist, 4, 0), **kwargs)


def test_gradient_check_takes_lists_once_they_are_checked(mnist):
    params, X, Y = _batch(mnist, 4, 0)
    assert gradient_check(params, X.tolist(), Y.tolist()).passed


def test_read_only_parameters_under_a_shallow_copy_are_told_as_that(mnist):
    params, X, Y = _batch(mnist, 4, 0)
    for v in params.values():
        v.flags.writeable = False
    with bugs.enabled("shallow_copy"), pytest.raises(ValueError, match="W1 is read-only, and the check's perturbed "
                                                                          "copy shares its memory"):
        gradient_check(params, X, Y, method="loop")  # once: numpy's bare "assignment destination is read-only"


@pytest.mark.parametrize("dtype", [float, "float64", np.dtype("float64")])
def test_epsilon_sweep_takes_float_for_float64(mnist, dtype):
    params, X, Y = _batch(mnist, 4, 0)
    eps = [1e-3, 1e-7]
    assert np.array_equal(nnlib.epsilon_sweep(params, X, Y, eps, dtype=dtype)[1],
                          nnlib.epsilon_sweep(params, X, Y, eps)[1])  # once: refused, though float is float64


def test_masks_that_are_not_a_word_get_one_line(mnist):
    params, X, Y = _batch(mnist, 4, 0)
    with pytest.raises(ValueError, match="masks must be 'frozen' or 'fresh', got a dict$"):  # once: the dict's repr
        gradient_check(params, X, Y, masks={"D1": np.ones((10, 4))})
