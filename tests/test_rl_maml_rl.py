"""MAML-RL's inner step and meta-gradient, checked against per-task loops and finite differences
on a tiny float64 policy with fixed trajectories (sampling is data, not part of the graph)."""

import pytest
import torch

from metalearn_lite.rl import (
    GaussianMLPPolicy,
    Navigation2D,
    Trajectories,
    adapt_to_tasks,
    apply_policy,
    compute_advantages,
    evaluate_adaptation,
    gaussian_log_prob,
    maml_rl_loss,
    policy_maml,
    rollout,
    surrogate_loss,
    train_maml_rl,
    train_pretrained,
)

ENV = Navigation2D(horizon=6)
LR = 0.3


@pytest.fixture
def setup():
    torch.manual_seed(0)
    policy = GaussianMLPPolicy(hidden_sizes=(5,)).double()
    with torch.no_grad():  # move the biases off 0: every episode starts at the origin, a ReLU kink
        for value in policy.parameters():
            value.add_(0.2 * torch.randn_like(value))
    generator = torch.Generator().manual_seed(0)
    goals = ENV.sample_goals(3, generator).double()
    pre = rollout(policy, ENV, goals, 4, generator)
    post = rollout(policy, ENV, goals, 4, generator)  # stand-in for post-update episodes (fixed data)
    return policy, pre, post


def task(batch: Trajectories, i: int) -> Trajectories:
    return Trajectories(*(field[i : i + 1] for field in batch))


def test_inner_step_equals_a_hand_written_step_per_task(setup):
    policy, pre, _ = setup
    adapted = adapt_to_tasks(policy_maml(policy, LR), pre)
    params = dict(policy.named_parameters())
    for i in range(3):
        one = task(pre, i)
        log_probs = gaussian_log_prob(policy(one.states), one.actions)
        loss = surrogate_loss(log_probs, compute_advantages(one), one.mask)
        grads = torch.autograd.grad(loss, list(params.values()))
        for (name, value), grad in zip(params.items(), grads, strict=True):
            torch.testing.assert_close(adapted[name][i], value - LR * grad)


def outer_loss(policy, pre, post, params, first_order=False, estimator="reinforce"):
    adapted = adapt_to_tasks(policy_maml(policy, LR, first_order, estimator), pre, params)
    log_probs = gaussian_log_prob(apply_policy(policy, post.states, adapted, per_task=True), post.actions)
    return surrogate_loss(log_probs, compute_advantages(post), post.mask)


def test_second_order_meta_gradient_matches_finite_differences(setup):
    """With the trajectories held fixed, MAML's meta-gradient is the exact derivative of the outer loss.

    (Not so for ``estimator="lvc"``: its extra curvature term estimates how the *sampling* of the
    pre-update episodes depends on θ, which fixed data cannot show; see the next test.)
    """
    policy, pre, post = setup
    names = [name for name, _ in policy.named_parameters()]

    def f(*values):
        return outer_loss(policy, pre, post, dict(zip(names, values, strict=True)))

    inputs = tuple(p.detach().clone().requires_grad_() for p in policy.parameters())
    assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-6)


def test_lvc_adds_the_score_outer_product_term(setup):
    """meta_grad(lvc) − meta_grad(reinforce) = α/n Σ_i mean_t A_t ∇log π_t (∇log π_t · g_i), where g_i is
    the gradient of task i's outer loss at its adapted weights (ProMP, Rothfuss et al. 2019, §4)."""
    policy, pre, post = setup
    params = dict(policy.named_parameters())
    shapes = {k: v.shape for k, v in params.items()}
    sizes = [v.numel() for v in params.values()]

    def unflatten(flat):
        return {k: chunk.view(shapes[k]) for k, chunk in zip(shapes, flat.split(sizes), strict=True)}

    meta = {est: torch.cat([g.flatten() for g in torch.autograd.grad(
        outer_loss(policy, pre, post, params, estimator=est), list(params.values()))]) for est in ("reinforce", "lvc")}
    theta = torch.cat([v.detach().flatten() for v in params.values()])
    adapted = adapt_to_tasks(policy_maml(policy, LR), pre)
    expected = torch.zeros_like(theta)
    for i in range(3):
        one, two = task(pre, i), task(post, i)
        adapted_i = torch.cat([v[i].detach().flatten() for v in adapted.values()]).requires_grad_()
        log_probs = gaussian_log_prob(torch.func.functional_call(policy, unflatten(adapted_i), (two.states,)),
                                      two.actions)
        (g_i,) = torch.autograd.grad(surrogate_loss(log_probs, compute_advantages(two), two.mask), adapted_i)

        def scores(flat, one=one):
            return gaussian_log_prob(torch.func.functional_call(policy, unflatten(flat), (one.states,)),
                                     one.actions).flatten()

        jac = torch.autograd.functional.jacobian(scores, theta)  # (n_traj * horizon, n_params)
        weights = (compute_advantages(one) * one.mask).flatten() / one.mask.sum()
        expected += LR / 3 * (weights * (jac @ g_i)) @ jac
    torch.testing.assert_close(meta["lvc"] - meta["reinforce"], expected)
    assert expected.abs().max() > 1e-4


def test_first_order_is_the_post_update_gradient_and_differs_from_second_order(setup):
    policy, pre, post = setup
    params = dict(policy.named_parameters())
    fo = torch.autograd.grad(outer_loss(policy, pre, post, params, first_order=True), list(params.values()))
    so = torch.autograd.grad(outer_loss(policy, pre, post, params), list(params.values()))
    adapted = {k: v.detach().requires_grad_() for k, v in adapt_to_tasks(policy_maml(policy, LR), pre).items()}
    log_probs = gaussian_log_prob(apply_policy(policy, post.states, adapted, per_task=True), post.actions)
    post_grads = torch.autograd.grad(surrogate_loss(log_probs, compute_advantages(post), post.mask),
                                     list(adapted.values()))
    for a, b in zip(fo, post_grads, strict=True):
        torch.testing.assert_close(a, b.sum(0))  # the expanded θ collects every task's gradient
    assert max((a - b).abs().max().item() for a, b in zip(fo, so, strict=True)) > 1e-4


def test_lvc_changes_only_the_second_order_term(setup):
    policy, pre, post = setup
    params = dict(policy.named_parameters())
    a = adapt_to_tasks(policy_maml(policy, LR, estimator="reinforce"), pre)
    b = adapt_to_tasks(policy_maml(policy, LR, estimator="lvc"), pre)
    for name in a:
        torch.testing.assert_close(a[name], b[name])  # same inner gradient

    def grads(**kw):
        return torch.autograd.grad(outer_loss(policy, pre, post, params, **kw), list(params.values()))

    for x, y in zip(grads(estimator="reinforce", first_order=True), grads(estimator="lvc", first_order=True),
                    strict=True):
        torch.testing.assert_close(x, y)
    diff = max((x - y).abs().max().item() for x, y in zip(grads(estimator="reinforce"), grads(estimator="lvc"),
                                                          strict=True))
    assert diff > 1e-4


def test_non_finite_inner_loss_names_the_task(setup):
    policy, pre, _ = setup
    rewards = pre.rewards.clone()
    rewards[1, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="inner .support. loss of task 1"):
        adapt_to_tasks(policy_maml(policy, LR), pre._replace(rewards=rewards))
    with pytest.raises(ValueError, match="inner_lr"):
        policy_maml(policy, 0.0)
    with pytest.raises(ValueError, match="estimator"):
        policy_maml(policy, LR, estimator="dice")


def test_per_task_start_params_are_used(setup):
    policy, pre, _ = setup
    maml = policy_maml(policy, LR)
    once = adapt_to_tasks(maml, pre)
    twice = adapt_to_tasks(maml, pre, once, per_task=True)
    for i in range(3):
        start = {k: v[i] for k, v in once.items()}
        one = task(pre, i)
        adv = compute_advantages(one)
        expected = maml.adapt_loss(lambda p, one=one, adv=adv: surrogate_loss(
            gaussian_log_prob(apply_policy(policy, one.states, p), one.actions), adv, one.mask), params=start)
        for name in twice:
            torch.testing.assert_close(twice[name][i], expected[name])


def test_meta_loss_backward_reaches_every_parameter():
    torch.manual_seed(0)
    policy = GaussianMLPPolicy(hidden_sizes=(8,))
    generator = torch.Generator().manual_seed(0)
    loss, batch = maml_rl_loss(policy_maml(policy, LR), ENV, ENV.sample_goals(2, generator), 3, generator)
    loss.backward()
    assert loss.dim() == 0 and batch.post.states.shape == (2, 3, ENV.horizon, 2)
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in policy.parameters())


def test_loops_return_histories_and_evaluation_shapes():
    torch.manual_seed(0)
    policy = GaussianMLPPolicy(hidden_sizes=(8,))
    generator = torch.Generator().manual_seed(0)
    maml = policy_maml(policy, LR, learn_inner_lr=True)  # Meta-SGD: the inner step sizes are trained too
    before = [lr.detach().clone() for lr in maml.inner_lrs]
    history = train_maml_rl(maml, ENV, 2, generator, meta_batch_size=2, n_traj=3, progress=False)
    assert any(not torch.equal(a, b) for a, b in zip(before, maml.inner_lrs, strict=True))
    assert {k: len(v) for k, v in history.items()} == {"pre_return": 2, "post_return": 2}
    assert len(train_pretrained(policy, ENV, 3, generator, meta_batch_size=2, n_traj=3, progress=False)["return"]) == 3
    result = evaluate_adaptation(policy, ENV, ENV.sample_goals(4, generator), generator, inner_steps=2, n_traj=3)
    assert result.returns.shape == (4, 3) and len(result.trajectories) == 3
    with pytest.raises(ValueError, match="num_steps"):
        train_maml_rl(maml, ENV, 0, generator)
