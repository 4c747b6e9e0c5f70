"""The intent encoder as a Scorer: training with early stopping, scoring, and explanations.

Training follows SASRec: every position predicts the next item with a full-softmax
cross-entropy over the catalog (exact, and at catalog sizes up to tens of thousands cheaper
on a CPU than sampling). With probability `message_rate` a training sequence also ends in
a MESSAGE token carrying a short query-like text of the target ("waterproof hiking
backpack"), so the encoder learns to join "what they did" with "what they just said".
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from catalog.models import EVENTS, Product
from ranking.intent_network import MESSAGE_KIND, PAD, START_KIND, IntentNetwork
from ranking.scorer import Scorer, ScorerError, TrainingData
from ranking.spec import ScorerSpec
from ranking.tuning import tuning_sample

# What a saved model's params lack if it was trained before these options existed.
LEGACY = {"block": "prenorm", "input_scale": False, "start_token": True, "mask_history": False}
# Options an ablation switches on the searched configuration (registry: intent-ablate-*).
ABLATIONS = {"logq": lambda v: 0.0 if v else 0.5, "category": lambda v: not v}


def short_query(product: Product) -> str:
    """A query-like text for a product: its type and a feature, or the first title words."""
    kind = product.attributes.get("type")
    features = product.attributes.get("features") or []
    if kind:
        return f"{features[0]} {kind}" if features else str(kind)
    words = product.title.split()
    if product.brand and product.title.startswith(product.brand):
        words = words[len(product.brand.split()) :]
    return " ".join(words[:5]) or product.title


@dataclass
class TrainingInputs:
    """What every training run on one dataset shares (a search trains several)."""

    text_vectors: np.ndarray
    messages: torch.Tensor
    counts: np.ndarray
    categories: np.ndarray
    sequences: list[tuple[np.ndarray, np.ndarray]]


@dataclass
class TrainingRun:
    """One network in training: its optimizer, random stream and best validation state."""

    network: IntentNetwork
    optimizer: torch.optim.Optimizer
    rng: np.random.Generator
    epochs: int = 0
    best: float = -1.0
    best_epoch: int = 0
    best_state: dict[str, torch.Tensor] | None = None


def category_codes(products: Sequence[Product]) -> np.ndarray:
    """Per item, an index of its category (0 = none), for the category embedding."""
    names = sorted({p.category for p in products if p.category})
    codes = {name: i + 1 for i, name in enumerate(names)}
    return np.array([codes.get(p.category or "", 0) for p in products], dtype=np.int64)


@dataclass
class IntentExplanation:
    """Why the encoder wants what it wants: the intent vector and attention per history item."""

    intent: np.ndarray
    attention: np.ndarray  # one weight per history item, oldest first; sums to <= 1
    message_attention: float  # the weight on the message token (0 without a message)


class IntentScorer(Scorer):
    """Causal self-attention over the behaviour sequence (+ the current message)."""

    name: ClassVar[str] = "intent"

    def __init__(
        self,
        hidden: int = 64,
        heads: int = 2,
        blocks: int = 2,
        max_len: int = 50,
        dropout: float = 0.2,
        id_shrinkage: float = 1.0,
        lr: float = 2e-3,
        weight_decay: float = 0.0,
        batch_size: int = 256,
        max_epochs: int = 60,
        patience: int = 5,
        message_rate: float = 0.2,
        logq: float = 0.0,
        category: bool = False,
        search_budget_s: float = 0.0,
        search_epochs: int = 40,
        search_trials: int = 24,
        ablate: str = "",
        best_epoch: int = 0,  # recorded by fit(): the validation-best epoch
        default_event: int = EVENTS.index("purchase"),
        seed: int = 7,
        threads: int = 1,
        train_threads: int = 0,
        template: str = "{title}. {description}",
        recency_positions: bool = True,
        block: str = "sasrec",
        input_scale: bool = True,
        start_token: bool = True,
        mask_history: bool = False,
        progress: bool = True,
    ) -> None:
        self.config = {
            "hidden": hidden,
            "heads": heads,
            "blocks": blocks,
            "max_len": max_len,
            "dropout": dropout,
            "id_shrinkage": id_shrinkage,
            "lr": lr,
            "weight_decay": weight_decay,
            "batch_size": batch_size,
            "max_epochs": max_epochs,
            "patience": patience,
            "message_rate": message_rate,
            "logq": logq,
            "category": category,
            "search_budget_s": search_budget_s,
            "search_epochs": search_epochs,
            "search_trials": search_trials,
            "ablate": ablate,
            "best_epoch": best_epoch,
            "default_event": default_event,
            "seed": seed,
            "threads": threads,
            "train_threads": train_threads,
            "template": template,
            "recency_positions": recency_positions,
            "block": block,
            "input_scale": input_scale,
            "start_token": start_token,
            "mask_history": mask_history,
        }
        self.progress = progress
        self.network: IntentNetwork | None = None
        self.history_log: list[dict[str, float]] = []
        self.search_trials: list[dict[str, Any]] = []  # the validation search, if one ran

    def params(self) -> dict[str, Any]:
        return dict(self.config)

    @classmethod
    def saved_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        """Models saved before the block and input scale were options had the pre-norm
        block, no input scale and START (what the defaults were then)."""
        return {**LEGACY, **params}

    # ----------------------------------------------------------------- training
    def fit(
        self,
        data: TrainingData,
        text_vectors: np.ndarray | None = None,
        message_vectors: np.ndarray | None = None,
    ) -> IntentScorer:
        """Train with early stopping on validation NDCG@10.

        By default item and message vectors come from the packaged MiniLM. Callers may pass
        their own `text_vectors`; message training then needs `message_vectors` from the
        same encoder, and is off without them.
        """
        # Training multiplies whole batches against the catalog, so by default (train_threads
        # 0) it uses torch's threads at the start of the process: one per core, or
        # OMP_NUM_THREADS (Beauty's full eval on the idle 2-core machine: intent 2,229 s
        # with one thread, 940 s with two). Use 1 on a machine busy with other work: there
        # the thread pool waits on hand-offs (0.25 s vs 1-2 s a batch, measured). A
        # process's own setting (a server's one thread) is restored afterwards.
        before = torch.get_num_threads()
        torch.set_num_threads(self.config["train_threads"] or _START_THREADS)
        try:
            return self._fit(data, text_vectors, message_vectors)
        finally:
            torch.set_num_threads(before)

    def _fit(
        self,
        data: TrainingData,
        text_vectors: np.ndarray | None,
        message_vectors: np.ndarray | None,
    ) -> IntentScorer:
        from retrieval.encoders import SentenceTransformerEncoder
        from retrieval.item_vectors import cached_vectors, item_text_vectors

        cfg = self.config
        self.n_items = data.n_items
        if text_vectors is None:
            text_vectors = item_text_vectors(data.products, template=cfg["template"])
            message_vectors = cached_vectors(
                [short_query(p) for p in data.products], SentenceTransformerEncoder(), _cache_dir()
            )
        self._message_training = message_vectors is not None
        if message_vectors is None:
            message_vectors = np.zeros_like(text_vectors)
        if data.events:
            counts = np.bincount(np.concatenate(data.events), minlength=len(EVENTS))
            cfg["default_event"] = int(counts.argmax())
        events = data.events or [np.full(len(s), cfg["default_event"]) for s in data.sequences]
        inputs = TrainingInputs(
            text_vectors=np.asarray(text_vectors, dtype=np.float32),
            messages=torch.from_numpy(np.asarray(message_vectors, dtype=np.float32)),
            counts=data.item_counts(),
            categories=category_codes(data.products),
            sequences=[(s, e) for s, e in zip(data.sequences, events, strict=True) if len(s) >= 2],
        )
        if cfg["ablate"]:
            cfg.update(self._ablated(data))
        if cfg["search_budget_s"] > 0 and data.validation:
            from ranking.intent_search import search

            chosen, self.search_trials = search(self, inputs, data.validation)
            cfg.update(chosen)
        run = self.start(inputs)
        validation = tuning_sample(data.validation, cfg["seed"])
        self.train_until_stopped(run, inputs, validation, cfg["max_epochs"], cfg["patience"])
        self.finish(run)
        return self

    def _ablated(self, data: TrainingData) -> dict[str, Any]:
        """The searched encoder's choices on this data with option `ablate` switched
        (logq on ↔ off, category vectors on ↔ off), trained without a search of its own."""
        from ranking.fitted import fit_once
        from ranking.intent_search import INTENT_SEARCH, SPACE

        name = self.config["ablate"]
        if name not in ABLATIONS:
            raise ScorerError(f"intent: cannot ablate {name!r}; known: {', '.join(ABLATIONS)}")
        # Under the registered `intent` model's name and settings (ranking.components), so the
        # ablations share its fit; built from this class, since components imports this module.
        spec = ScorerSpec("intent", _searched, "the searched intent encoder", (INTENT_SEARCH,))
        searched = fit_once(spec, INTENT_SEARCH, data, self.config["seed"])
        chosen = {key: searched.params()[key] for key in SPACE}
        chosen[name] = ABLATIONS[name](chosen[name])
        return {**chosen, "search_budget_s": 0.0}

    def refit_params(self) -> dict[str, Any]:
        """The searched values as they are, trained for the validation-best number of
        epochs (there is no validation to stop on), with no search or ablation of its own."""
        epochs = max(int(self.config["best_epoch"]), 1)
        return {
            **self.config,
            "search_budget_s": 0.0,
            "ablate": "",
            "max_epochs": epochs,
            "patience": epochs,
            "progress": self.progress,
        }

    def chosen_params(self) -> dict[str, Any]:
        """What a report should show: the searched (or ablated) values and the best epoch."""
        from ranking.intent_search import SPACE

        keys = [*SPACE, "best_epoch"] if self.search_trials or self.config["ablate"] else []
        return {key: self.config[key] for key in keys}

    def start(self, inputs: TrainingInputs) -> TrainingRun:
        """A fresh network, optimizer and random stream under the current config."""
        cfg = self.config
        torch.manual_seed(cfg["seed"])
        self.network = self._build(inputs.text_vectors, inputs.counts, inputs.categories)
        optimizer = torch.optim.Adam(
            self.network.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"]
        )
        return TrainingRun(self.network, optimizer, np.random.default_rng(cfg["seed"]))

    def train_until_stopped(
        self,
        run: TrainingRun,
        inputs: TrainingInputs,
        validation: list[tuple[np.ndarray, int]],
        epochs: int,
        patience: int,
    ) -> float:
        """Up to `epochs` more epochs, keeping the best state by validation NDCG@10;
        stops after `patience` epochs without a gain. Returns the best value so far."""
        cfg = self.config
        self.network = run.network
        message_rate = cfg["message_rate"] if self._message_training else 0.0
        log_prior = torch.from_numpy(np.log((inputs.counts + 1.0) / (inputs.counts + 1.0).sum()))
        bar = tqdm(range(epochs), desc="intent: training", disable=not self.progress)
        waited = 0
        for _ in bar:
            loss = self._epoch(
                inputs.sequences, inputs.messages, run, message_rate, log_prior.float()
            )
            quality = self._validation_ndcg(validation) if validation else -loss
            run.epochs += 1
            self.history_log.append({"epoch": run.epochs, "loss": loss, "valid_ndcg@10": quality})
            bar.set_postfix(loss=f"{loss:.3f}", valid_ndcg10=f"{quality:.4f}")
            # A tie keeps the later, longer-trained state but does not reset the patience.
            waited = 0 if quality > run.best else waited + 1
            if quality >= run.best:
                run.best, run.best_epoch = quality, run.epochs
                run.best_state = copy.deepcopy(self.network.state_dict())
            if waited >= patience:
                break
        return run.best

    def finish(self, run: TrainingRun) -> None:
        """Keep the run's best validation state, record the epochs it took, switch to eval."""
        self.network = run.network
        if run.best_state is not None:
            self.network.load_state_dict(run.best_state)
        self.config["best_epoch"] = run.best_epoch
        self.network.eval()

    def _build(
        self, text_vectors: np.ndarray, counts: np.ndarray, categories: np.ndarray
    ) -> IntentNetwork:
        cfg = self.config
        return IntentNetwork(
            torch.from_numpy(np.asarray(text_vectors, dtype=np.float32)),
            torch.from_numpy(np.asarray(counts, dtype=np.float32)),
            torch.from_numpy(np.asarray(categories, dtype=np.int64)) if cfg["category"] else None,
            hidden=cfg["hidden"],
            heads=cfg["heads"],
            blocks=cfg["blocks"],
            max_len=cfg["max_len"],
            dropout=cfg["dropout"],
            id_shrinkage=cfg["id_shrinkage"],
            recency_positions=cfg["recency_positions"],
            block=cfg["block"],
            input_scale=cfg["input_scale"],
        )

    def _epoch(
        self,
        sequences: list[tuple[np.ndarray, np.ndarray]],
        messages: torch.Tensor,
        run: TrainingRun,
        message_rate: float,
        log_prior: torch.Tensor,
    ) -> float:
        """One pass; with `logq` > 0 the training logits get + logq × log(item prior)
        (logit adjustment): popularity is explained by the prior during training, so the
        scores served without it lean less on popularity, i.e. more towards the tail."""
        assert self.network is not None
        self.network.train()
        cfg = self.config
        rng, optimizer = run.rng, run.optimizer
        # Random batches, padded to their longest sequence. Length-bucketed batches cut the
        # padding (85% of Beauty's tokens) but weight each short sequence's positions more
        # (the loss is a mean per batch) and cost Office validation ndcg@10 0.078 -> 0.063.
        order = rng.permutation(len(sequences))
        total, batches = 0.0, 0
        for start in range(0, len(order), cfg["batch_size"]):
            chosen = [sequences[i] for i in order[start : start + cfg["batch_size"]]]
            with_message = rng.random(len(chosen)) < message_rate
            items, kinds, targets, message_items = _training_batch(
                chosen, with_message, cfg["max_len"], cfg["start_token"]
            )
            message_vectors = messages[message_items.clamp(min=0)]
            hidden, _ = self.network.encode(items, kinds, message_vectors)
            valid = targets != PAD
            logits = hidden[valid] @ self.network.item_table().T
            if cfg["logq"]:
                logits = logits + cfg["logq"] * log_prior
            if cfg["mask_history"]:
                seen = _seen_items(items, valid, targets, logits.shape[1])
                logits = logits.masked_fill(seen, float("-inf"))
            loss = nn.functional.cross_entropy(logits, targets[valid])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach())
            batches += 1
        return total / max(batches, 1)

    def _validation_ndcg(self, validation: list[tuple[np.ndarray, int]], k: int = 10) -> float:
        """NDCG@k on the validation pairs: finer-grained than recall for early stopping."""
        total = 0.0
        for start in range(0, len(validation), 512):
            chunk = validation[start : start + 512]
            scores = self._score([h for h, _ in chunk])
            for row, (history, target) in enumerate(chunk):
                scores[row, history] = -np.inf
                rank = int((scores[row] > scores[row, target]).sum())
                total += 1 / np.log2(rank + 2) if rank < k else 0.0
        return total / max(len(validation), 1)

    # ------------------------------------------------------------------ scoring
    def _score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        return self.score_with(histories)

    def score_with(
        self,
        histories: Sequence[np.ndarray],
        events: Sequence[np.ndarray] | None = None,
        messages: np.ndarray | None = None,
    ) -> np.ndarray:
        """Scores for histories with their event codes and, optionally, message vectors."""
        intents, _ = self._intents(histories, events, messages)
        return self.scores_for(intents)

    def scores_for(self, intents: np.ndarray | torch.Tensor) -> np.ndarray:
        """Scores over every item for intent vectors (rows), e.g. from `explain`."""
        assert self.network is not None
        rows = torch.as_tensor(np.atleast_2d(np.asarray(intents)), dtype=torch.float32)
        with torch.no_grad():
            return (rows @ self.network.item_table().T).numpy()

    def explain(
        self,
        history: np.ndarray,
        events: np.ndarray | None = None,
        message: np.ndarray | None = None,
    ) -> IntentExplanation:
        """The intent vector and how much each history item (and the message) drove it."""
        history = np.asarray(history, dtype=np.int64)
        self.check_items([history])  # without a forward pass: that is below
        intents, weights = self._intents(
            [history],
            None if events is None else [events],
            None if message is None else message[None, :],
        )
        kept = min(len(history), self.config["max_len"])
        row = weights[0]
        has_message = message is not None
        end = len(row) - (1 if has_message else 0)
        attention = np.zeros(len(history), dtype=np.float32)
        if kept:
            attention[len(history) - kept :] = row[end - kept : end]
        return IntentExplanation(
            intent=intents[0].numpy(),
            attention=attention,
            message_attention=float(row[-1]) if has_message else 0.0,
        )

    def _intents(
        self,
        histories: Sequence[np.ndarray],
        events: Sequence[np.ndarray] | None,
        messages: np.ndarray | None,
    ) -> tuple[torch.Tensor, np.ndarray]:
        if self.network is None:
            raise ScorerError("intent: score() called before fit() or load()")
        self.network.eval()
        max_len = self.config["max_len"]
        default = self.config["default_event"]
        has_message = messages is not None
        start_token = self.config["start_token"]
        length = max(min(len(h), max_len) for h in histories) + 1 + int(has_message)
        items = torch.full((len(histories), length), PAD, dtype=torch.long)
        kinds = torch.full((len(histories), length), PAD, dtype=torch.long)
        for row, history in enumerate(histories):
            history = np.asarray(history, dtype=np.int64)[-max_len:]
            codes = (
                np.asarray(events[row], dtype=np.int64)[-max_len:]
                if events is not None
                else np.full(len(history), default)
            )
            end = length - int(has_message)
            start = end - len(history)
            items[row, start:end] = torch.from_numpy(history)
            kinds[row, start:end] = torch.from_numpy(codes)
            if start_token or not len(history):  # an empty history still needs a token
                kinds[row, start - 1] = START_KIND
            if has_message:
                kinds[row, -1] = MESSAGE_KIND
        message_tensor = (
            torch.from_numpy(np.asarray(messages, dtype=np.float32)) if has_message else None
        )
        with torch.no_grad():
            hidden, weights = self.network.encode(items, kinds, message_tensor)
        return hidden[:, -1, :], weights[:, -1, :].numpy()

    # -------------------------------------------------------------- persistence
    def state(self) -> dict[str, np.ndarray]:
        if self.network is None:
            raise ScorerError("intent: nothing to save before fit()")
        return {f"net.{k}": v.detach().numpy() for k, v in self.network.state_dict().items()}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        # Serving scores one short sequence at a time: torch's thread pool only adds
        # hand-off waits there (measured 370 ms instead of a few ms a request on 2 busy cores).
        torch.set_num_threads(self.config["threads"])
        text_vectors = state["net.text_vectors"]
        categories = state.get("net.item_categories", np.zeros(len(text_vectors), dtype=np.int64))
        self.network = self._build(text_vectors, state["net.item_counts"], categories)
        self.network.load_state_dict(
            {k[4:]: torch.from_numpy(v) for k, v in state.items() if k.startswith("net.")}
        )
        self.network.eval()


def _training_batch(
    chosen: list[tuple[np.ndarray, np.ndarray]],
    with_message: np.ndarray,
    max_len: int,
    start_token: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Left-padded [START?, i_1 … i_{L-1}, MESSAGE?] with next-item targets at every position.

    Without START (SASRec) the first item is input only: nothing is asked to predict it
    from an empty history, which only the catalog's popularity could answer."""
    rows = []
    for (sequence, codes), message in zip(chosen, with_message, strict=True):
        sequence, codes = sequence[-(max_len + 1) :], codes[-(max_len + 1) :]
        inputs, kinds = list(sequence[:-1]), list(codes[:-1])
        targets = list(sequence)
        if message:
            inputs.append(PAD)
            kinds.append(MESSAGE_KIND)
            targets.append(sequence[-1])
        if start_token:
            inputs, kinds = [PAD, *inputs], [START_KIND, *kinds]
        else:
            targets = targets[1:]
        rows.append((inputs, kinds, targets, sequence[-1] if message else PAD))
    length = max(len(r[0]) for r in rows)
    items = torch.full((len(rows), length), PAD, dtype=torch.long)
    kinds = torch.full((len(rows), length), PAD, dtype=torch.long)
    targets = torch.full((len(rows), length), PAD, dtype=torch.long)
    message_items = torch.full((len(rows),), PAD, dtype=torch.long)
    for row, (inp, kind, target, message_item) in enumerate(rows):
        items[row, length - len(inp) :] = torch.tensor(inp)
        kinds[row, length - len(kind) :] = torch.tensor(kind)
        targets[row, length - len(target) :] = torch.tensor(target)
        message_items[row] = int(message_item)
    return items, kinds, targets, message_items


def _seen_items(
    items: torch.Tensor, valid: torch.Tensor, targets: torch.Tensor, n_items: int
) -> torch.Tensor:
    """(valid positions, n_items): the items each position has already seen, except its
    own target. Scoring excludes a history's items, so training need not push them down."""
    length = items.shape[1]
    causal = torch.ones(length, length, dtype=torch.bool).tril()
    history = items.unsqueeze(1).expand(-1, length, -1).masked_fill(~causal, PAD)[valid]
    keep = (history != PAD) & (history != targets[valid].unsqueeze(1))
    counts = torch.zeros(len(history), n_items)
    counts.scatter_add_(1, history.clamp(min=0), keep.float())
    return counts > 0


# torch's thread count before anything in the process changed it (serving sets 1).
_START_THREADS = torch.get_num_threads()


def _cache_dir():  # -> Path
    from core.settings import load_settings

    return load_settings().home / "cache" / "vectors"


def _searched(seed: int, **params: Any) -> IntentScorer:
    return IntentScorer(seed=seed, **params)
