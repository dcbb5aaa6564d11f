"""The fonts -> digits transfer entry's parts: the head kept by class name, one few-shot run, the plot."""

import numpy as np

import zoo
from zoo.reproduce import transfer as fonts_transfer


def test_head_from_classes_copies_the_rows_of_the_same_names():
    model = zoo.get("simple_cnn", input_shape=(8, 8, 1), num_classes=4, filters=(4, 8))
    kernel, bias = model.get_layer("predictions").get_weights()
    new = fonts_transfer.head_from_classes(model, ["a", "b", "c", "d"], ["c", "a", "z"])
    new_kernel, new_bias = new.get_layer("predictions").get_weights()
    np.testing.assert_array_equal(new_kernel[:, :2], kernel[:, [2, 0]])
    np.testing.assert_array_equal(new_bias[:2], bias[[2, 0]])
    assert new.output_shape == (None, 3) and not np.array_equal(new_kernel[:, 2], kernel[:, 1])


def test_a_few_shot_transfer_starts_from_the_fonts_answer(tmp_path):
    recipe = dict(fonts_transfer.TRANSFER_RECIPE, steps=2)
    transferred = fonts_transfer.few_shot("transfer", 1, 0, recipe)
    scratch = fonts_transfer.few_shot("scratch", 1, 0, dict(fonts_transfer.SCRATCH_RECIPE, steps=2))
    assert transferred > 0.5 > scratch  # zero-shot on this split is 0.633; two steps from random stay near chance
    results = {"transfer": {1: [0.8, 0.9], 5: [0.9, 0.95]}, "scratch": {1: [0.5, 0.6], 5: [0.85, 0.9]}}
    path = fonts_transfer.plot(results, str(tmp_path / "curve.png"), "test")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_finetune_from_the_fonts_tag_reads_digits_at_its_8x8x1_and_learns():
    result = zoo.finetune("simple_cnn", "digits", weights="fonts", labels_per_class=5, epochs=3)
    assert result.model.input_shape == (None, 8, 8, 1)
    # 50 labels, two stages of 3 epochs of 20 steps (MIN_STEPS_PER_EPOCH): far above chance (0.1)
    assert result.test["accuracy"] > 0.5
