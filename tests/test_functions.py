import pytest
import torch

from inret_engine import functions as fns
from inret_engine.errors import UsageError
from inret_engine.functions import ImplicitFunction as IF


def test_parse_and_levels():
    assert fns.parse_functions("SDF, udf,occ,sdf") == [IF.SDF, IF.UDF, IF.OCC]
    assert IF.OCC.level == 0.0 and IF.SDF.level == 0.0  # occupancy INRs output logits
    with pytest.raises(UsageError, match="unknown implicit function"):
        IF.parse("nerf")


def test_require_fails_loudly():
    fns.require(IF.SDF, [IF.SDF], "sphere tracing")
    with pytest.raises(UsageError, match="sphere tracing needs an INR of SDF, got UDF"):
        fns.require(IF.UDF, [IF.SDF], "sphere tracing")


def test_losses_match_definitions():
    pred = torch.tensor([[0.0, 0.5, -0.2]])
    gt = torch.tensor([[0.1, 0.2, -0.2]])
    assert fns.loss(IF.SDF, pred, gt).item() == pytest.approx((0.01 + 0.09) / 3)
    logits, occ = torch.tensor([[2.0, -1.0]]), torch.tensor([[1.0, 0.0]])
    bce = -(torch.log(torch.sigmoid(torch.tensor(2.0))) + torch.log(1 - torch.sigmoid(torch.tensor(-1.0)))) / 2
    assert fns.loss(IF.OCC, logits, occ).item() == pytest.approx(bce.item())
    # UDF is clamped at UDF_CLAMP: 0.5 vs 0.2 both read as "far".
    assert fns.loss(IF.UDF, pred, gt).item() == pytest.approx((0.1 + 0.0 + 0.0) / 3)


def test_conversions():
    sdf = torch.tensor([-0.3, 0.0, 0.2])
    assert torch.equal(fns.to_udf(IF.SDF, sdf), sdf.abs())
    assert fns.to_occupancy(IF.SDF, sdf).tolist() == [1.0, 0.0, 0.0]
    assert fns.to_occupancy(IF.OCC, torch.tensor([2.0, -0.1])).tolist() == [1.0, 0.0]
    with pytest.raises(UsageError):
        fns.to_occupancy(IF.UDF, sdf)
    with pytest.raises(UsageError, match="point cloud"):
        fns.target(IF.SDF, None, sdf, None)


def test_udf_loss_pulls_down_a_prediction_stuck_above_the_clamp():
    pred = torch.tensor([[0.5]], requires_grad=True)
    fns.loss(IF.UDF, pred, torch.tensor([[0.0]])).sum().backward()
    assert pred.grad.item() > 0
