"""kgviz.training.release: model-card text and the stored draw."""

from kgviz.training.release import averaging_sentence, card_with_stored_draw, train_commands


def test_averaging_sentence_reads_whole():
    # the model card quotes it
    assert averaging_sentence("average", [1800, 2000], 30) == (
        "weights averaged over the 2 snapshots with the best mean valid MRR over 30 draws (epochs 1800, 2000)"
    )
    assert averaging_sentence("greedy", [200, 2200], 30) == (
        "weights averaged over a greedy soup of snapshots (each kept if it did not lower the mean valid MRR over "
        "30 draws; epochs 200, 2200)"
    )


def test_model_card_reproduces_a_learning_rate_schedule():
    """The card's train lines follow the run's recorded schedule: one per stretch, later ones resumed."""
    options = {"learning_rate": 0.0005, "num_bin": 5, "num_epoch": 6000}
    first, second = train_commands("WK-100", 4, options, [[0, 0.001], [2000, 0.0005]], 5600, snapshots=True)
    assert "--learning_rate 0.001 --num_bin 5 --num_epoch 2000 --snapshots" in first and "--resume" not in first
    assert second.endswith("--learning_rate 0.0005 --num_bin 5 --num_epoch 5600 --snapshots --resume")
    (only,) = train_commands("NL-0", 0, options, [[0, 0.0005]], 6000, snapshots=False)
    assert only.endswith("--seed 0 --learning_rate 0.0005 --num_bin 5 --num_epoch 6000")
    # split options away from the authors' defaults are part of every line
    lines = train_commands(
        "WK-100",
        4,
        options,
        [[0, 0.001], [2000, 0.0005]],
        5000,
        snapshots=True,
        procedure={"spanning": "authors", "message_ratio": 0.75},
    )
    assert all("--spanning authors" in line and "--message-ratio" not in line for line in lines)
    (line,) = train_commands(
        "WK-100", 4, options, [[0, 0.001]], 100, snapshots=False, procedure={"spanning": "random", "message_ratio": 0.4}
    )
    assert line.endswith("--num_epoch 100 --message-ratio 0.4") and "--spanning" not in line


def test_card_gets_one_stored_draw_row_and_its_commands():
    card = (
        "| | MRR | Hits@10 |\n| ensemble of 10 draws (scores averaged) | 0.200 | 0.300 |\n\n## Reproduce\n\n"
        "    python -m kgviz evaluate --checkpoint runs/NL-0 --data $KGVIZ_DATA/NL-0 --split test\n\nend\n"
    )
    entry = {"seed": 7, "pool": list(range(30)), "test": {"MRR": 0.25, "Hits@10": 0.4}}
    once = card_with_stored_draw(card, entry, "NL-0", list(range(30)))
    lines = once.splitlines()
    assert lines[2].startswith("| the draw with the best valid MRR among draws 0–29 (seed 7)")
    assert lines[2].endswith("| 0.250 | 0.400 |")
    assert "store-draw --checkpoint runs/NL-0 --data $KGVIZ_DATA/NL-0 --seeds $(seq 0 29)" in once
    assert card_with_stored_draw(once, entry, "NL-0", list(range(30))) == once  # replaced, not added twice
