"""The ``python -m keras_models`` command line: one name per model (issue 17)."""

import pytest

from keras_models import __main__ as cli
from keras_models import speedrun_tasks
from keras_models.recipes import RECIPES


def test_graded_names_are_the_recipe_and_speedrun_tasks_and_do_not_collide():
    assert set(cli.GRADED_MODELS) == {"mnist_mlp", *speedrun_tasks.GRADED_TASKS}
    # a name means one model: no recipe shares a key with a graded speedrun CNN
    assert not set(RECIPES) & set(speedrun_tasks.SPEEDRUNS)
    assert "mnist_mlp" in RECIPES


def test_list_prints_recipes_and_graded_models(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "mnist_lenet_cnn" in out and "cifar10_resnet_cnn" in out
    graded_line = out.split("graded models")[1]
    assert all(name in graded_line for name in cli.GRADED_MODELS)


@pytest.mark.parametrize("name", ["fashion_mlp", "mnist_lenet_cnn", "nonsense"])
def test_train_refuses_names_without_a_graded_task(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", name])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_experiment_refuses_a_graded_speedrun_name(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["experiment", "mnist_cnn"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "unknown recipe 'mnist_cnn'" in err and "mnist_lenet_cnn" in err
