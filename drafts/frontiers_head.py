"""Frontiers: a buffet of ideas beyond the basics, each one run and measured

Attention lets a network choose where to look: softly, by a weighted average it can differentiate,
or hard, by sampling a position, which needs gradients of an expectation. Those gradients come from
two estimators, REINFORCE and the reparameterization trick. An optimiser can itself be learned by
differentiating through training. A classifier can be fooled by a perturbation too small to see,
and trained to resist it. Dropout at test time and ensembles say how unsure a network is. A network
fits random labels, only slower. And the information plane, a disputed picture of what layers keep.
"""

# Draft head of lectures/frontiers.py (not committed): the recipe, then the steps from the other drafts.

from companion.lecture import Lecture
from lectures import cnn

lecture = Lecture(
    "frontiers",
    "Frontiers: attention, gradient estimators, learned optimisers, adversarial examples, uncertainty",
    expected="soft attention solving a task that the same network without it cannot; unbiased gradient "
    "estimators, the reparameterised one far less noisy; a learned update beating tuned SGD on an unseen "
    "problem; FGSM breaking the CNN and adversarial training defending it; uncertainty growing away "
    "from the data; random labels fitted, slowly",
    seconds=240,
)


def train(x, y, *, epochs=None, seed=0, strategy=None, callbacks=()):
    """The classifier the adversarial steps attack: the `cnn` lecture's recipe, unchanged (the same
    contract: images (n, height, width, channels) in [0, 1], integer labels; class probabilities out)."""
    return cnn.train(x, y, epochs=epochs, seed=seed, strategy=strategy, callbacks=callbacks)
