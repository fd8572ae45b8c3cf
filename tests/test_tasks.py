import pytest
import torch

import metalearn_lite as mll


def test_task_fields_and_stack():
    tasks = [mll.Task(torch.randn(5, 2), torch.randn(5, 1), torch.randn(7, 2), torch.randn(7, 1)) for _ in range(3)]
    batch = mll.stack_tasks(tasks)
    assert batch.x_support.shape == (3, 5, 2) and batch.y_query.shape == (3, 7, 1)
    assert torch.equal(batch.x_query[1], tasks[1].x_query)


def test_stack_rejects_empty_and_mismatched():
    with pytest.raises(ValueError, match="non-empty"):
        mll.stack_tasks([])
    a = mll.Task(torch.zeros(5, 2), torch.zeros(5), torch.zeros(7, 2), torch.zeros(7))
    b = mll.Task(torch.zeros(4, 2), torch.zeros(4), torch.zeros(7, 2), torch.zeros(7))
    with pytest.raises(ValueError, match="x_support"):
        mll.stack_tasks([a, b])


def test_task_to_device():
    task = mll.Task(*(torch.zeros(2) for _ in range(4))).to("cpu")
    assert all(t.device.type == "cpu" for t in task)
